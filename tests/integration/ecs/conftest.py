"""Fixtures for the ECS deploy against the sandbox: clients, a cluster, images with labels.

These tests get a sandbox of their own: ECS clusters cannot be removed from
the emulation (DeleteCluster only marks them INACTIVE), and other suites
check what a fresh sandbox lists.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pipeline.sandbox import Sandbox
from tests.integration.sandbox.support import Images
from tests.integration.sandboxes import aws_client, running_sandbox


@pytest.fixture(scope="session")
def sandbox_handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    yield from running_sandbox(tmp_path_factory, "ecs-sandbox")


@pytest.fixture(scope="session")
def sandbox(sandbox_handle: Sandbox) -> dict[str, str]:
    return sandbox_handle.env()


def _client(sandbox: dict[str, str], name: str) -> Any:
    return aws_client(sandbox, name, one_attempt=True)


@pytest.fixture(scope="session")
def clients(sandbox: dict[str, str]) -> Callable[[str], Any]:
    """boto3 clients for the sandbox, made as the pipeline makes them (one attempt per call)."""
    return lambda name: _client(sandbox, name)


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())
    return f"{stem[:30].strip('-')}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def cluster(clients: Callable[[str], Any], unique: str) -> str:
    clients("ecs").create_cluster(clusterName=unique)
    return unique


@pytest.fixture
def auth(clients: Callable[[str], Any]) -> dict[str, str]:
    import base64

    data = clients("ecr").get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return {"username": user, "password": password}


class LabelledImages(Images):
    def build_with(self, labels: dict[str, str]) -> Any:
        lines = [f"LABEL {k}={v}" for k, v in labels.items()]
        text = "\n".join(["FROM local/busybox:1", f"LABEL test.unique={uuid.uuid4()}", *lines])
        return self.build_dockerfile(text + "\n")


@pytest.fixture
def images(
    docker_client: Any, sandbox: dict[str, str], auth: dict[str, str]
) -> Iterator[LabelledImages]:
    made = LabelledImages(docker_client, sandbox["PIPELINE_REGISTRY_HOST"], auth)
    yield made
    with contextlib.suppress(Exception):
        made.remove_all()
