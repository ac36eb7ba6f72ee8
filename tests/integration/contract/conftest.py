"""Fixtures for the port contract tests, over the session sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.run.support import Token, ecr_client, ecr_token


@pytest.fixture(scope="session")
def ecr(sandbox: dict[str, str]) -> Any:
    return ecr_client(sandbox)


@pytest.fixture(scope="session")
def token(ecr: Any) -> Token:
    return ecr_token(ecr)
