"""`make lint-actions` is live: zizmor and check-jsonschema, offline, pass on what we ship and
fail on a workflow with the mistakes they exist to catch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
ACTION = ROOT / "actions" / "github" / "action.yml"
WORKFLOWS = sorted(str(p) for p in (ROOT / "docs" / "workflows").glob("*.yml"))

INJECTED = """\
name: bad
on: issues
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.issue.title }}"
"""


def zizmor(*paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--persona", "pedantic", *paths],
        capture_output=True,
        text=True,
        check=False,
    )


def schema(name: str, *paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", name, *paths],
        capture_output=True,
        text=True,
        check=False,
    )


def test_what_we_ship_has_no_zizmor_finding() -> None:
    done = zizmor(str(ACTION), *WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_catches_injection_and_unpinned_actions(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(INJECTED, encoding="utf-8")
    done = zizmor(str(bad))
    assert done.returncode != 0
    assert "template-injection" in done.stdout and "unpinned-uses" in done.stdout


def test_what_we_ship_matches_github_schemas() -> None:
    assert schema("vendor.github-actions", str(ACTION)).returncode == 0
    assert schema("vendor.github-workflows", *WORKFLOWS).returncode == 0


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "vendor.github-workflows",
            "name: x\non: push\njobs:\n  a:\n    runs-on: x\n    stepz: []\n",
        ),
        (
            "vendor.github-actions",
            "name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - run: echo\n",
        ),
    ],
)
def test_the_schemas_catch_malformed_files(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / "file.yml"
    path.write_text(text, encoding="utf-8")
    assert schema(name, str(path)).returncode != 0
