"""Fixtures for the ECS deploy against the sandbox: clients, a cluster, images with labels.

These tests get a sandbox of their own: ECS clusters cannot be removed from
the emulation (DeleteCluster only marks them INACTIVE), and other suites
check what a fresh sandbox lists.
"""

from __future__ import annotations

import contextlib
import io
import re
import tarfile
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from pipeline.errors import SandboxError
from pipeline.sandbox import Ports, Sandbox
from tests.integration.sandbox.support import Images


@pytest.fixture(scope="session")
def sandbox_handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path_factory.mktemp("ecs-sandbox") / "state")
    try:
        box.up(Ports.free())
    except SandboxError as err:
        box.down()
        pytest.fail(f"the sandbox could not start: {err}", pytrace=False)
    yield box
    box.down()


@pytest.fixture(scope="session")
def sandbox(sandbox_handle: Sandbox) -> dict[str, str]:
    return sandbox_handle.env()


def _client(sandbox: dict[str, str], name: str) -> Any:
    return boto3.client(
        name,
        endpoint_url=sandbox["AWS_ENDPOINT_URL"],
        region_name=sandbox["AWS_REGION"],
        aws_access_key_id=sandbox["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=sandbox["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


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
        dockerfile = (text + "\n").encode()
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(dockerfile)
            tar.addfile(info, io.BytesIO(dockerfile))
        context.seek(0)
        image, _ = self.client.images.build(fileobj=context, custom_context=True, rm=True)
        self.ids.append(image.id)
        return image


@pytest.fixture
def images(
    docker_client: Any, sandbox: dict[str, str], auth: dict[str, str]
) -> Iterator[LabelledImages]:
    made = LabelledImages(docker_client, sandbox["PIPELINE_REGISTRY_HOST"], auth)
    yield made
    with contextlib.suppress(Exception):
        made.remove_all()
