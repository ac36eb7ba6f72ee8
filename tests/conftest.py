"""Shared test setup: every test starts with no registered secrets, and outside CI's own
terminal: GitHub Actions' variables (set when the suite itself runs there) would turn on
annotations, folds and step summaries that tests ask for explicitly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline import log


@pytest.fixture(autouse=True)
def _fresh_masks() -> Iterator[None]:
    log.forget_all()
    yield
    log.forget_all()


@pytest.fixture(autouse=True)
def _no_ci_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "PIPELINE_PROGRESS"):
        monkeypatch.delenv(name, raising=False)
