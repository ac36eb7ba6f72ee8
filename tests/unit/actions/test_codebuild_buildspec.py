"""The CodeBuild buildspec: its shape, and its commands run as CodeBuild runs them (one bash
shell for every command, in order) against a fake `pipeline`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.ci import outputs

ROOT = Path(__file__).resolve().parents[3]
BUILDSPEC = ROOT / "actions" / "codebuild" / "buildspec.yml"
VENV = "/tmp/pipeline-venv"
REPORT = {
    "status": "ok",
    "images": [
        {
            "name": "api",
            "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/api",
            "digest": "sha256:" + "d" * 64,
            "tags": ["1.2.3"],
        }
    ],
}
FAKE = """#!/usr/bin/env bash
if [ "$1" = outputs ]; then exec "$REAL_PIPELINE" "$@"; fi
if [ "$1" = --version ]; then echo "pipeline, version 0"; exit 0; fi
printf '%s\\0' "$@" > "$ARGV_FILE"
while [ "$#" -gt 0 ]; do
  if [ "$1" = --report ]; then printf '%s' "$FAKE_REPORT" > "$2"; fi
  shift
done
exit "${FAKE_EXIT:-0}"
"""


def spec() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(BUILDSPEC.read_text(encoding="utf-8"))
    return data


def test_shape() -> None:
    data = spec()
    assert data["version"] == 0.2
    assert data["env"]["shell"] == "bash"
    assert data["env"]["exported-variables"] == list(outputs.ENV_NAMES)
    assert set(data["artifacts"]["files"]) == {"pipeline-report.json", "imagedefinitions.json"}
    text = BUILDSPEC.read_text(encoding="utf-8")
    assert "privileged" in text.lower() and "Full clone" in text


def build_phase(tmp_path: Path, env: dict[str, str], exit_code: int = 0) -> tuple[int, str, Path]:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "pipeline"
    fake.write_text(FAKE, encoding="utf-8")
    fake.chmod(0o755)
    src = tmp_path / "src"
    src.mkdir()
    report = tmp_path / "report.json"
    commands = [
        c.replace(VENV, str(venv)).replace("/tmp/pipeline-report.json", str(report))
        for c in spec()["phases"]["build"]["commands"]
    ]
    script = "\n".join(commands) + '\nprintf "%s\\n" "$PIPELINE_STATUS" "$PIPELINE_IMAGE_URI_API"'
    variables = {k: str(v) for k, v in spec()["env"]["variables"].items()}
    full = {**os.environ, **variables, **env}
    full.update(
        ARGV_FILE=str(tmp_path / "argv"),
        REAL_PIPELINE=str(Path(sys.executable).parent / "pipeline"),
        FAKE_REPORT=json.dumps(REPORT),
        FAKE_EXIT=str(exit_code),
    )
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=src, env=full, capture_output=True, text=True, check=False
    )
    return done.returncode, done.stdout, src


def argv(tmp_path: Path) -> list[str]:
    return (tmp_path / "argv").read_text(encoding="utf-8").split("\0")[:-1]


def test_build_runs_the_pipeline_and_exports_the_outputs(tmp_path: Path) -> None:
    code, out, src = build_phase(tmp_path, {})
    assert code == 0
    assert argv(tmp_path) == [
        "run",
        "-f",
        "pipeline.yaml",
        "--report",
        str(tmp_path / "report.json"),
    ]
    status, uri = out.splitlines()[:2]
    assert status == "ok"
    assert uri == REPORT["images"][0]["image"] + "@" + REPORT["images"][0]["digest"]
    assert json.loads((src / "pipeline-report.json").read_text(encoding="utf-8")) == REPORT


def test_batch_builds_run_one_image(tmp_path: Path) -> None:
    code, _, _ = build_phase(
        tmp_path, {"PIPELINE_IMAGE": "api", "PIPELINE_SKIP": "promote,deploy", "PIPELINE_ONLY": ""}
    )
    assert code == 0
    assert argv(tmp_path)[5:] == ["--image", "api", "--skip", "promote,deploy"]


@pytest.mark.parametrize("exit_code", [1, 2, 3])
def test_the_build_fails_with_the_run_exit_code_after_exporting(
    tmp_path: Path, exit_code: int
) -> None:
    code, _, src = build_phase(tmp_path, {}, exit_code)
    assert code == exit_code
    assert (src / "pipeline-report.json").exists()
