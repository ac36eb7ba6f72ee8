"""Integration fixtures: one sandbox for the whole run, and the machine's dockerd.

Nothing here skips. A service that cannot start fails the run and says why
(ARCHITECTURE.md, habit 8); `make services` (scripts/services.sh) installs and
starts dockerd, docker-registry and the local/busybox:1 base image.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.sandbox import Sandbox
from tests.integration.sandboxes import running_sandbox

BASE_IMAGE = "local/busybox:1"
HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration carries the `integration` marker (`-m`)."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def sandbox_handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The running sandbox itself (state folder, status); most tests want `sandbox`."""
    yield from running_sandbox(tmp_path_factory, "sandbox")


@pytest.fixture(scope="session")
def sandbox(sandbox_handle: Sandbox) -> dict[str, str]:
    """The environment a client of the sandbox needs (AWS_ENDPOINT_URL, ...)."""
    return sandbox_handle.env()


@pytest.fixture(scope="session")
def docker_client() -> Any:
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as err:
        pytest.fail(f"no Docker engine answers (run `make services`): {err}", pytrace=False)
    try:
        client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        pytest.fail(f"{BASE_IMAGE} is missing (run `make services`)", pytrace=False)
    return client
