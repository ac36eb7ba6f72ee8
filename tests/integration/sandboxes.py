"""Starting a sandbox for a session fixture: the whole run's, or a suite's own."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from pipeline.errors import SandboxError
from pipeline.sandbox import Ports, Sandbox


def running_sandbox(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Sandbox]:
    """A sandbox of its own for a session fixture (`yield from`): started on free ports,
    stopped afterwards; one that cannot start fails the run and says why."""
    box = Sandbox(tmp_path_factory.mktemp(name) / "state")
    try:
        # Free ports, not the defaults: a developer's own sandbox may hold those.
        box.up(Ports.free())
    except SandboxError as err:
        box.down()
        pytest.fail(f"the sandbox could not start: {err}", pytrace=False)
    yield box
    box.down()


def aws_client(sandbox: Mapping[str, str], service: str, *, one_attempt: bool = False) -> Any:
    """A boto3 client for the sandbox's AWS (`sandbox`: its environment); `one_attempt`
    as the pipeline makes them (botocore retries nothing: our own retry loops do)."""
    import boto3
    from botocore.config import Config

    retries = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return boto3.client(
        service,
        endpoint_url=sandbox["AWS_ENDPOINT_URL"],
        region_name=sandbox["AWS_REGION"],
        aws_access_key_id=sandbox["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=sandbox["AWS_SECRET_ACCESS_KEY"],
        config=retries if one_attempt else None,
    )
