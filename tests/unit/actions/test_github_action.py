"""The composite action and the example workflows: pins, no expressions in scripts, and the
action's own scripts run in bash against a fake `pipeline` that records its argv."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.ci import outputs

ROOT = Path(__file__).resolve().parents[3]
ACTION = ROOT / "actions" / "github" / "action.yml"
WORKFLOWS = sorted((ROOT / "docs" / "workflows").glob("*.yml"))
PIPELINE = Path(sys.executable).parent / "pipeline"

#: Third-party actions, each pinned to the commit of the release named in its comment
#: (looked up in the actions' own repositories; the tags are lightweight, so the
#: commit is the tag's target).
PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "aws-actions/configure-aws-credentials": ("e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
}
USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(\S+)(?:\s*#\s*(\S+))?\s*$")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def steps_of(path: Path) -> list[dict[str, Any]]:
    data = load(path)
    if "runs" in data:
        return list(data["runs"]["steps"])
    return [s for job in data["jobs"].values() for s in job.get("steps", [])]


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_every_action_used_is_pinned_to_the_verified_commit(path: Path) -> None:
    for line in path.read_text(encoding="utf-8").splitlines():
        match = USES.match(line)
        if not match:
            continue
        ref, comment = match.groups()
        if ref.startswith(("$/", "./")):
            continue  # this repository's own action, at the workflow's own revision
        name, _, sha = ref.partition("@")
        assert name in PINS, f"{path.name}: {name} has no verified pin"
        assert (sha, comment) == PINS[name], f"{path.name}: {line.strip()}"


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_no_expression_is_ever_part_of_a_script(path: Path) -> None:
    for step in steps_of(path):
        if "run" in step:
            assert "${{" not in step["run"], f"{path.name}: {step.get('name') or step['run']}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_get_credentials_only_through_oidc(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "aws-access-key-id" not in text and "aws-secret-access-key" not in text
    data = load(path)
    assert data["permissions"] == {}
    for job in data["jobs"].values():
        uses = [s.get("uses", "") for s in job["steps"]]
        if any(u.startswith("aws-actions/configure-aws-credentials") for u in uses):
            assert job["permissions"]["id-token"] == "write"
            creds = next(
                s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")
            )
            assert creds["with"]["role-to-assume"]
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout"):
                assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_deploying_jobs_hold_the_deploy_concurrency_group(path: Path) -> None:
    for job in load(path)["jobs"].values():
        runs = [s for s in job["steps"] if s.get("uses") == "$/actions/github"]
        deploys = any(
            "deploy" not in (s.get("with", {}).get("skip") or "")
            and (s.get("with", {}).get("only") in (None, "promote,deploy"))
            for s in runs
        )
        if deploys:
            assert job["concurrency"] == {
                "group": "deploy-production",
                "cancel-in-progress": False,
            }


def test_every_output_comes_from_the_outputs_command() -> None:
    data = load(ACTION)
    names = set(outputs.from_report({"images": []}, "r.json"))
    assert set(data["outputs"]) == names
    for name, spec in data["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"


# --------------------------------------------------------------------------- the scripts


def step(step_id: str) -> dict[str, Any]:
    return next(s for s in steps_of(ACTION) if s.get("id") == step_id)


FAKE_PIPELINE = """#!/usr/bin/env bash
# Records argv (NUL-separated) for `run`, writes a report, exits FAKE_EXIT.
if [ "$1" = outputs ]; then exec "$REAL_PIPELINE" "$@"; fi
printf '%s\\0' "$@" > "$ARGV_FILE"
report=""
while [ "$#" -gt 0 ]; do
  if [ "$1" = --report ]; then report="$2"; fi
  shift
done
[ -z "$report" ] || printf '%s' "$FAKE_REPORT" > "$report"
exit "${FAKE_EXIT:-0}"
"""

REPORT = {
    "status": "ok",
    "images": [
        {
            "name": "api",
            "image": "registry.example.com/acme/api",
            "digest": "sha256:" + "c" * 64,
            "tags": ["1.2.3", "sha-abcdef0"],
        }
    ],
}


def run_step(tmp_path: Path, inputs: dict[str, str], *, exit_code: int = 0) -> tuple[int, Path]:
    """The action's `run` step in bash, its env as the runner would set it from `inputs`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "pipeline"
    fake.write_text(FAKE_PIPELINE, encoding="utf-8")
    fake.chmod(0o755)
    python = bin_dir / "python"
    if not python.exists():
        python.symlink_to(sys.executable)
    temp = tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    spec = step("run")
    env_names = {
        "CONFIG": "config",
        "IMAGES": "images",
        "ONLY": "only",
        "SKIP": "skip",
        "DRY_RUN": "dry-run",
        "FROM_REPORT": "from-report",
        "REPORT": "report",
        "EXTRA_ARGS": "args",
    }
    defaults = {k: str(v.get("default", "")) for k, v in load(ACTION)["inputs"].items()}
    assert set(spec["env"]) == {"BIN", *env_names}
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update({var: inputs.get(name, defaults[name]) for var, name in env_names.items()})
    env.update(
        BIN=str(bin_dir),
        RUNNER_TEMP=str(temp),
        GITHUB_OUTPUT=str(tmp_path / "github_output"),
        ARGV_FILE=str(tmp_path / "argv"),
        REAL_PIPELINE=str(PIPELINE),
        FAKE_REPORT=json.dumps(REPORT),
        FAKE_EXIT=str(exit_code),
    )
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    done = subprocess.run(
        ["bash", "-e", "-c", spec["run"]],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode, workdir


def argv(tmp_path: Path) -> list[str]:
    return (tmp_path / "argv").read_text(encoding="utf-8").split("\0")[:-1]


def test_defaults_run_every_image_with_a_report_outside_the_workspace(tmp_path: Path) -> None:
    code, _ = run_step(tmp_path, {})
    assert code == 0
    got = argv(tmp_path)
    assert got[:3] == ["run", "-f", "pipeline.yaml"]
    assert got[3] == "--report" and got[4].startswith(str(tmp_path / "runner-temp"))
    assert len(got) == 5


def test_inputs_become_arguments_never_shell(tmp_path: Path) -> None:
    code, workdir = run_step(
        tmp_path,
        {
            "config": "ci/pipeline.yaml",
            "images": "api, web\n worker *",
            "only": "build,push",
            "skip": "scan",
            "dry-run": "true",
            "args": "--jobs 2 --label 'a b' \"$(touch pwned)\" `touch pwned2` $HOME *",
        },
    )
    assert code == 0
    got = argv(tmp_path)
    report = got[got.index("--report") + 1]
    assert got == [
        "run",
        "-f",
        "ci/pipeline.yaml",
        "--report",
        report,
        "--image",
        "api",
        "--image",
        "web",
        "--image",
        "worker",
        "--image",
        "*",
        "--only",
        "build,push",
        "--skip",
        "scan",
        "--dry-run",
        "--jobs",
        "2",
        "--label",
        "a b",
        "$(touch pwned)",
        "`touch",
        "pwned2`",
        "$HOME",
        "*",
    ]
    assert not (workdir / "pwned").exists() and not (workdir / "pwned2").exists()


def test_from_report_patterns_expand_to_one_flag_per_file(tmp_path: Path) -> None:
    reports = tmp_path / "reports dir"
    reports.mkdir()
    for name in ("report-api.json", "report-web.json", "other.txt"):
        (reports / name).write_text("{}", encoding="utf-8")
    code, _ = run_step(
        tmp_path,
        {
            "only": "promote,deploy",
            "from-report": f"{reports}/report-*.json\n\n{reports}/other.txt",
        },
    )
    assert code == 0
    got = argv(tmp_path)
    flags = [got[i + 1] for i, word in enumerate(got) if word == "--from-report"]
    assert flags == [
        f"{reports}/report-api.json",
        f"{reports}/report-web.json",
        f"{reports}/other.txt",
    ]


def test_a_from_report_pattern_that_matches_nothing_fails(tmp_path: Path) -> None:
    code, _ = run_step(tmp_path, {"from-report": f"{tmp_path}/none-*.json"})
    assert code == 2
    assert not (tmp_path / "argv").exists()


def test_a_dry_run_that_is_not_a_boolean_fails(tmp_path: Path) -> None:
    code, _ = run_step(tmp_path, {"dry-run": "yes"})
    assert code == 2
    assert not (tmp_path / "argv").exists()


def test_unbalanced_quotes_in_args_fail_instead_of_running_without_them(tmp_path: Path) -> None:
    code, _ = run_step(tmp_path, {"args": "--label 'open"})
    assert code != 0
    assert not (tmp_path / "argv").exists()


@pytest.mark.parametrize("exit_code", [0, 1, 3])
def test_outputs_are_written_and_the_run_exit_code_kept(tmp_path: Path, exit_code: int) -> None:
    code, _ = run_step(tmp_path, {"report": str(tmp_path / "r.json")}, exit_code=exit_code)
    assert code == exit_code
    text = (tmp_path / "github_output").read_text(encoding="utf-8")
    assert "digests<<ghadelimiter_" in text
    assert f"{tmp_path}/r.json" in text
    assert "registry.example.com/acme/api:sha-abcdef0" in text


# --------------------------------------------------------------------------- install


FAKE_PYTHON = """#!/usr/bin/env bash
# `-m venv DIR`: a venv whose python records pip's argv and whose pipeline prints a version.
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"
  printf '#!/usr/bin/env bash\\nprintf "%%s\\\\n" "$@" > "$PIP_ARGV"\\n' > "$3/bin/python"
  printf '#!/usr/bin/env bash\\necho "pipeline, version 0"\\n' > "$3/bin/pipeline"
  chmod +x "$3/bin/python" "$3/bin/pipeline"
fi
"""


def install(tmp_path: Path, version: str = "", source: str = "") -> tuple[int, list[str], str]:
    python = tmp_path / "fake-python"
    python.write_text(FAKE_PYTHON, encoding="utf-8")
    python.chmod(0o755)
    temp = tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    output = tmp_path / "github_output"
    env = dict(
        os.environ,
        PYTHON=str(python),
        VERSION=version,
        SOURCE=source,
        ACTION_PATH="/actions/pipeline/sha/actions/github",
        RUNNER_TEMP=str(temp),
        GITHUB_OUTPUT=str(output),
        PIP_ARGV=str(tmp_path / "pip-argv"),
    )
    done = subprocess.run(
        ["bash", "-e", "-c", step("install")["run"]],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    pip = tmp_path / "pip-argv"
    args = pip.read_text(encoding="utf-8").split() if pip.exists() else []
    return done.returncode, args, output.read_text(encoding="utf-8") if output.exists() else ""


@pytest.mark.parametrize(
    ("version", "source", "spec"),
    [
        ("", "", "/actions/pipeline/sha/actions/github/../.."),
        ("1.4.0", "", "pipeline-release==1.4.0"),
        ("2.0.0rc1", "", "pipeline-release==2.0.0rc1"),
        ("", ".", "."),
        ("", "-e .", "./-e ."),
    ],
)
def test_install_picks_pypi_a_path_or_the_action_source(
    tmp_path: Path, version: str, source: str, spec: str
) -> None:
    code, args, output = install(tmp_path, version, source)
    assert code == 0
    assert args[:3] == ["-m", "pip", "install"]
    assert " ".join(args).endswith(spec)
    assert re.fullmatch(r"bin=.*/pipeline-venv\.\w+/bin\n", output)


@pytest.mark.parametrize("version", ["1.0; rm -rf /", "latest", "--index-url=http://x", "1.0\n::x"])
def test_install_refuses_a_version_that_is_not_one(tmp_path: Path, version: str) -> None:
    code, args, _ = install(tmp_path, version)
    assert code == 2
    assert args == []
