"""Shared test setup: every test starts with no registered secrets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline import log


@pytest.fixture(autouse=True)
def _fresh_masks() -> Iterator[None]:
    log.forget_all()
    yield
    log.forget_all()
