"""What a person sees of `pipeline run`: in a real terminal (tmux), piped, and in GitHub Actions.

Every case is a real build and push against the session sandbox: the live view
in a tmux pane, read back with `tmux capture-pane`; the plain lines of a piped
run (no control character at all); GitHub's folds, masks, annotations and
step summary.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path

from tests.integration.run.support import (
    Project,
    Token,
    ecr_config,
    pipeline_argv,
    run_cli,
)
from tests.integration.run.terminal import Pane, pane

__all__ = ["pane"]  # the fixture

#: a step of its own (the nonce: never in BuildKit's cache) that lasts long enough to be seen
SLOW = "FROM local/busybox:1\nRUN echo {name} {nonce} > /name && sleep 2\nRUN echo done > /done\n"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # all but the newline


def _project(make_project: Callable[[str], Project], prefix: str, *names: str) -> Project:
    project = make_project("app")
    images = []
    for name in names:
        project.write(f"{name}/Dockerfile", SLOW.format(name=name, nonce=uuid.uuid4().hex))
        images.append({"name": name, "repository": f"{prefix}/{name}", "context": name})
    project.config(ecr_config(images))
    project.commit("first")
    return project


# --------------------------------------------------------------------------- piped


def test_piped_output_is_plain_timestamped_lines_and_a_summary_table(
    make_project: Callable[[str], Project], env: dict[str, str], prefix: str
) -> None:
    project = _project(make_project, prefix, "app")
    result = run_cli(project, env, "run", "--only", "build,push")
    assert result.code == 0, result.describe()
    assert not CONTROL.search(result.stdout + result.stderr), repr(result.output)
    lines = result.stderr.splitlines()
    assert lines and all(STAMP.match(line) for line in lines), lines
    said = [STAMP.sub("", line) for line in lines]
    for stage in ("prepare", "build", "push"):
        assert f"{stage}: started" in said
        assert any(line.startswith(f"{stage}: done in ") for line in said), said
    assert not any("sha256:" in line and line.startswith("[app] #") for line in said)  # no -v
    out = result.stdout.splitlines()
    assert out[0] == "Run ok: build, push"
    head = out.index(next(line for line in out if line.startswith("IMAGE ")))
    assert out[head].split() == ["IMAGE", "DIGEST", "TAGS", "FINDINGS", "GATE", "DEPLOY"]
    digest = result.image("app")["digest"]
    assert out[head + 1].split()[:2] == ["app", digest[:19]]
    assert f"sha-{project.head[:7]}" in out[head + 1]
    assert [line.split()[0] for line in out if line.split()[:1] in (["prepare"], ["push"])] == [
        "prepare",
        "push",
    ]


def test_with_v_the_builders_output_is_shown_too(
    make_project: Callable[[str], Project], env: dict[str, str], prefix: str
) -> None:
    project = _project(make_project, prefix, "app")
    result = run_cli(project, env, "-v", "run", "--only", "build")
    assert result.code == 0, result.describe()
    assert re.search(r"Z \[app\] #\d+ \[2/3\] RUN echo app ", result.stderr), result.stderr


def test_a_failed_build_shows_its_last_lines_and_q_only_errors_and_the_summary(
    make_project: Callable[[str], Project], env: dict[str, str], prefix: str
) -> None:
    project = make_project("app")
    project.write("Dockerfile", "FROM local/busybox:1\nRUN echo the step that fails && exit 3\n")
    project.config(ecr_config([{"name": "app", "repository": f"{prefix}/app"}]))
    project.commit("broken")
    result = run_cli(project, env, "-q", "run", "--only", "build,push")
    assert result.code == 1, result.describe()
    said = [STAMP.sub("", line) for line in result.stderr.splitlines()]
    assert "app: the builder's last lines:" in said
    assert any("the step that fails" in line for line in said)
    assert not any(line.endswith(": started") or line.startswith("building") for line in said)
    assert result.stdout.startswith("Run failed: build, push\n")
    assert "build    " in result.stdout and "failed" in result.stdout


# --------------------------------------------------------------------------- GitHub Actions


def test_github_mode_masks_first_folds_each_stage_and_writes_the_step_summary(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    token: Token,
    tmp_path: Path,
) -> None:
    project = _project(make_project, prefix, "app", "web")
    summary = tmp_path / "step-summary.md"
    github = {
        **env,
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_WORKSPACE": str(project.root),
    }
    result = run_cli(project, github, "run", "--only", "build,push", merged=True)
    assert result.code == 0, result.describe()
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::add-mask::"), lines[:5]  # before anything else
    masks = [line for line in lines if line.startswith("::add-mask::")]
    assert lines[: len(masks)] == masks  # every mask precedes every other line
    rest = "\n".join(lines[len(masks) :])
    for value in token.values:
        assert value not in rest
    folds = [line for line in lines if line.startswith(("::group::", "::endgroup::"))]
    # the stages asked for, each in its fold (the runner also times a deploy step)
    stages = [s for s in result.report["seconds"] if s in ("prepare", "build", "push")]
    assert stages == ["prepare", "build", "push"]
    assert folds == [f for stage in stages for f in (f"::group::{stage}", "::endgroup::")]
    assert not any(STAMP.match(line) for line in lines)  # GitHub stamps its lines itself
    text = summary.read_text()
    for name in ("app", "web"):
        digest = result.image(name)["digest"]
        assert f"| {name} | `{digest}` | `sha-{project.head[:7]}`" in text
    assert "**Time per stage:** prepare " in text


def test_github_mode_annotates_configuration_errors_at_their_place(
    make_project: Callable[[str], Project], env: dict[str, str]
) -> None:
    project = make_project("app")
    project.write("pipeline.yaml", "version: 1\nimages:\n  - name: app\n    repositry: x\n")
    project.commit("typo")
    github = {**env, "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(project.root)}
    result = run_cli(project, github, "run", report=False)
    assert result.code == 2, result.describe()
    assert "pipeline.yaml:4:5: images[0].repositry: unknown key" in result.stderr
    assert re.search(
        r"^::error file=pipeline\.yaml,line=4,col=5::images\[0\]\.repositry: unknown key",
        result.stderr,
        re.M,
    ), result.stderr


# --------------------------------------------------------------------------- a real terminal


def test_in_a_real_terminal_a_person_sees_live_steps_then_the_stages_and_the_table(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    pane: Pane,
    tmp_path: Path,
) -> None:
    project = _project(make_project, prefix, "app")
    report = tmp_path / "report.json"
    argv = pipeline_argv("run", "--only", "build,push", "--report", str(report))
    seen, screen, code = pane.watch(argv, env, project.root)
    assert code == 0, screen

    # while it ran: the build's current step of N, with a spinner's stage line
    assert any(re.search(r"^\s+app\s+step [23]/3 RUN ", s, re.M) for s in seen), seen[-3:]
    # at the end: every stage ticked off with its time, then the table
    for stage in ("prepare", "build", "push"):
        assert re.search(rf"^✓\s+{stage}\s+(\d+m)?\d+(\.\d)?s\s*$", screen, re.M), screen
    assert "Run ok: build, push" in screen
    table = screen[screen.index("IMAGE") :]
    assert re.search(r"IMAGE\s+DIGEST\s+TAGS\s+FINDINGS\s+GATE\s+DEPLOY", table), screen
    digest = json.loads(report.read_text())["images"][0]["digest"]
    assert re.search(rf"^\s*app\s+{re.escape(digest[:19])}\s+sha-{project.head[:7]}", table, re.M)
    assert re.search(r"^\s*STAGE\s+TIME\s+RESULT", table, re.M), screen
    assert "\x1b" not in screen  # capture-pane -p gives the text a person reads
