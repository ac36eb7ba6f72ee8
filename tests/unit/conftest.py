"""A clean environment for the tests that read it (context, tags, releases): modules
ask for it with `pytestmark = pytest.mark.usefixtures("clean_environment")`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.gitrepo import ISOLATION, leaked_git_vars

#: Prefixes of variables that would make the code under test think it runs in CI.
CI_PREFIXES = ("GITHUB_", "CODEBUILD_", "PIPELINE_", "AWS_", "DOCKER_METADATA_")


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No CI variable, git config or GIT_DIR of the machine reaches the code under test."""
    for name in list(os.environ):
        if name.startswith(CI_PREFIXES) or name in ("CI",):
            monkeypatch.delenv(name)
    for name in list(leaked_git_vars(os.environ)):
        monkeypatch.delenv(name)
    for name, value in ISOLATION.items():
        monkeypatch.setenv(name, value)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    yield
