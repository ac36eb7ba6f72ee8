"""Fixtures over the session sandbox: an ECR client, registry access, images."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pipeline.cli import main
from pipeline.sandbox import Sandbox
from tests.integration.sandbox.support import Images, RegistryHttp
from tests.integration.sandboxes import aws_client


@pytest.fixture(scope="session")
def ecr(sandbox: dict[str, str]) -> Any:
    return aws_client(sandbox, "ecr")


@pytest.fixture(scope="session")
def ecs(sandbox: dict[str, str]) -> Any:
    return aws_client(sandbox, "ecs")


@pytest.fixture
def sandbox_cli(
    sandbox_handle: Sandbox, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str]]:
    """Runs `pipeline sandbox ARGS --dir <the session sandbox>`: (exit code, output)."""

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["sandbox", *args, "--dir", str(sandbox_handle.dir)])
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


@pytest.fixture(scope="session")
def auth(ecr: Any) -> dict[str, str]:
    """docker's auth_config, from the emulated GetAuthorizationToken as a real client does."""
    data = ecr.get_authorization_token()["authorizationData"][0]
    username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return {"username": username, "password": password}


@pytest.fixture(scope="session")
def registry(sandbox: dict[str, str], auth: dict[str, str]) -> RegistryHttp:
    return RegistryHttp(sandbox["PIPELINE_REGISTRY_HOST"], auth["username"], auth["password"])


@pytest.fixture
def images(docker_client: Any, sandbox: dict[str, str], auth: dict[str, str]) -> Iterator[Images]:
    made = Images(docker_client, sandbox["PIPELINE_REGISTRY_HOST"], auth)
    yield made
    made.remove_all()


@pytest.fixture
def repository(ecr: Any, request: pytest.FixtureRequest) -> Callable[..., str]:
    """Creates an ECR repository with a name unique to the test; returns the name."""

    def create(**settings: Any) -> str:
        stem = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())
        stem = stem[:40].strip("-")
        name = f"sbx/{stem}-{uuid.uuid4().hex[:6]}"
        ecr.create_repository(repositoryName=name, **settings)
        return name

    return create
