"""Sandbox without a running server: clear answers, and no harm to foreign folders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import SandboxError
from pipeline.sandbox import Sandbox
from pipeline.sandbox.control import server_command


def test_nothing_running(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "state")
    assert not box.status().running
    with pytest.raises(SandboxError, match="run `pipeline sandbox up` first"):
        box.env()
    assert box.down() is False
    assert not (tmp_path / "state").exists()


def test_a_foreign_folder_is_never_used_or_deleted(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    box = Sandbox(tmp_path)
    with pytest.raises(SandboxError, match="is not a sandbox state folder"):
        box.up()
    with pytest.raises(SandboxError, match="is not a sandbox state folder"):
        box.down()
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert not (tmp_path / ".gitignore").exists()


def test_a_new_folder_is_git_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_SANDBOX_REGISTRY_BIN", str(tmp_path / "missing"))
    box = Sandbox(tmp_path / "state")
    with pytest.raises(SandboxError, match="no such executable"):
        box.up()
    assert (tmp_path / "state" / ".gitignore").read_text().endswith("*\n")
    assert box.down() is False
    assert not (tmp_path / "state").exists()


def test_the_state_folder_is_never_on_the_servers_path(tmp_path: Path) -> None:
    """A module planted in the state folder (the server's working directory) is not imported."""
    (tmp_path / "pipeline.py").write_text("raise SystemExit('planted module imported')\n")
    planted = subprocess.run(
        [sys.executable, "-m", "pipeline.sandbox.server", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "planted module imported" in planted.stderr  # what `python -m` would do
    ours = subprocess.run(
        [*server_command(), "--help"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert ours.returncode == 0, ours.stderr
    assert "--state-dir" in ours.stdout
