"""Fixtures for the `pipeline run` tests, over the session sandbox and dockerd."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.run.support import (
    Project,
    Registry,
    Token,
    clean_env,
    ecr_client,
    ecr_token,
    remove_images,
)


@pytest.fixture(scope="session")
def ecr(sandbox: dict[str, str]) -> Any:
    return ecr_client(sandbox)


@pytest.fixture(scope="session")
def token(ecr: Any) -> Token:
    return ecr_token(ecr)


@pytest.fixture(scope="session")
def registry(sandbox: dict[str, str], token: Token) -> Registry:
    return Registry.of(sandbox["PIPELINE_REGISTRY_HOST"], token)


@pytest.fixture
def prefix(request: pytest.FixtureRequest, docker_client: Any) -> Iterator[str]:
    """A repository namespace unique to this test: tests never share a repository.

    Every local image tagged under it is removed afterwards.
    """
    stem = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())
    name = f"it/{stem[:40].strip('-')}-{uuid.uuid4().hex[:6]}"
    yield name
    remove_images(docker_client, f"/{name}/")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(sandbox: dict[str, str], home: Path) -> dict[str, str]:
    return clean_env(sandbox, home)


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[[str], Project]:
    def make(name: str = "project") -> Project:
        return Project(tmp_path / name)

    return make
