"""actions/release.sh: argument checking, and what it hands to `pipeline release`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.gitrepo import GitRepo, clean_env

SCRIPT = Path(__file__).resolve().parents[3] / "actions" / "release.sh"
RECORDER = """#!/usr/bin/env bash
printf '%s\\0' "$@" > "$ARGV_FILE"
"""


def run(
    tmp_path: Path, *args: str, pipeline: str | None = None
) -> subprocess.CompletedProcess[str]:
    recorder = tmp_path / "recorder"
    recorder.write_text(RECORDER, encoding="utf-8")
    recorder.chmod(0o755)
    env = dict(os.environ, PIPELINE=pipeline or str(recorder), ARGV_FILE=str(tmp_path / "argv"))
    return subprocess.run(
        [str(SCRIPT), *args], env=env, capture_output=True, text=True, check=False, cwd=tmp_path
    )


def handed(tmp_path: Path) -> list[str]:
    return (tmp_path / "argv").read_text(encoding="utf-8").split("\0")[:-1]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["patch"], ["release", "--bump", "patch"]),
        (["--bump", "major"], ["release", "--bump", "major"]),
        (
            ["minor", "--push", "--allow-dirty", "--allow-branch", "--force", "--no-run"],
            [
                "release",
                "--bump",
                "minor",
                "--push",
                "--allow-dirty",
                "--allow-branch",
                "--force",
                "--no-run",
            ],
        ),
        (
            ["--dry-run", "patch", "--image", "api", "-f", "ci/p p.yaml", "--report", "r.json"],
            [
                "release",
                "--bump",
                "patch",
                "--dry-run",
                "--image",
                "api",
                "-f",
                "ci/p p.yaml",
                "--report",
                "r.json",
            ],
        ),
    ],
)
def test_arguments_are_handed_over_unchanged(
    tmp_path: Path, args: list[str], expected: list[str]
) -> None:
    done = run(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    assert handed(tmp_path) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "say which part to raise"),
        (["pre"], "unknown argument 'pre'"),
        (["--bump"], "--bump needs patch, minor or major"),
        (["--bump", "huge"], "unknown bump 'huge'"),
        (["patch", "minor"], "the bump is given twice"),
        (["patch", "--image"], "--image needs a value"),
        (["patch", "--image", ""], "--image needs a value"),
        (["patch", "--push=yes"], "unknown argument '--push=yes'"),
        (["patch", "$(touch pwned)"], "unknown argument"),
    ],
)
def test_bad_arguments_exit_2_with_usage_and_run_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = run(tmp_path, *args)
    assert done.returncode == 2
    assert message in done.stderr and "usage: release.sh" in done.stderr
    assert not (tmp_path / "argv").exists()
    assert not (tmp_path / "pwned").exists()


def test_help_exits_0(tmp_path: Path) -> None:
    done = run(tmp_path, "--help")
    assert done.returncode == 0 and "usage: release.sh" in done.stderr


def test_end_to_end_with_the_real_pipeline(tmp_path: Path) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    (repo.path / "pipeline.yaml").write_text(
        "version: 1\nregistry: {type: generic, url: r.example.com/a}\n"
        "default_branch: main\nimages:\n  - name: api\n",
        encoding="utf-8",
    )
    (repo.path / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    repo.git("add", "pipeline.yaml", "Dockerfile")
    repo.commit()
    repo.tag("v0.4.1", annotated=True)
    repo.commit()
    env = dict(clean_env(), PIPELINE=str(Path(sys.executable).parent / "pipeline"))
    for name in list(env):
        if name.startswith(("GITHUB_", "CODEBUILD_")):
            del env[name]
    done = subprocess.run(
        [str(SCRIPT), "minor", "--no-run"],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "v0.5.0\n"
    assert repo.git("cat-file", "-t", "v0.5.0") == "tag"
