"""A sandbox of its own for the release under IAM enforcement.

moto's enforcement is one switch for the whole emulation (`/moto-api/reset-auth`):
every call after it must be signed by an IAM user's key and allowed by its
policies. Other suites call the sandbox with keys IAM has never heard of, so
these tests get their own sandbox, as the deploy tests do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline.errors import SandboxError
from pipeline.sandbox import Ports, Sandbox
from tests.integration.run.conftest import home, make_project, prefix
from tests.integration.run.support import clean_env

__all__ = ["home", "make_project", "prefix"]


@pytest.fixture(scope="session")
def iam_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path_factory.mktemp("iam-sandbox") / "state")
    try:
        box.up(Ports.free())
    except SandboxError as err:
        box.down()
        pytest.fail(f"the sandbox could not start: {err}", pytrace=False)
    yield box
    box.down()


@pytest.fixture(scope="session")
def sandbox(iam_sandbox: Sandbox) -> dict[str, str]:
    return iam_sandbox.env()


@pytest.fixture
def env(sandbox: dict[str, str], home: Path) -> dict[str, str]:
    return clean_env(sandbox, home)


@pytest.fixture(scope="session")
def admin(sandbox: dict[str, str]) -> Callable[[str], Any]:
    """Clients with the sandbox's own keys: they work only while enforcement is off."""

    def client(name: str) -> Any:
        return boto3.client(
            name,
            endpoint_url=sandbox["AWS_ENDPOINT_URL"],
            region_name=sandbox["AWS_REGION"],
            aws_access_key_id=sandbox["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=sandbox["AWS_SECRET_ACCESS_KEY"],
        )

    return client
