"""The patched ECR API (in-process moto): the token, and calls outside the sandbox's region."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipeline.sandbox.aws import patch_ecr
from pipeline.sandbox.sync import Bridge
from tests.unit.sandbox.fakes import FakeRegistry, manifest

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture
def bridge() -> Iterator[Bridge]:
    from pipeline.sandbox.ecr import EcrState

    with mock_aws():
        made = Bridge(EcrState("123456789012", "us-east-1"), FakeRegistry())  # type: ignore[arg-type]
        undo = patch_ecr(made, "pw-from-memory", now=lambda: NOW)
        try:
            yield made
        finally:
            undo()


def _ecr(region: str = "us-east-1") -> Any:
    return boto3.client("ecr", region_name=region, aws_access_key_id="a", aws_secret_access_key="b")


def test_the_token_carries_the_sandbox_password(bridge: Bridge) -> None:
    data = _ecr().get_authorization_token()["authorizationData"][0]
    assert base64.b64decode(data["authorizationToken"]) == b"AWS:pw-from-memory"
    assert data["expiresAt"] == datetime(2030, 1, 2, 15, 4, 5, tzinfo=timezone.utc)
    assert data["proxyEndpoint"] == "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"


def test_put_image_goes_through_the_bridge(bridge: Bridge) -> None:
    client = _ecr()
    client.create_repository(repositoryName="app/web")
    client.put_image(repositoryName="app/web", imageManifest=manifest("a"), imageTag="1")
    assert bridge.registry.calls == [("put", "app/web", "1")]  # type: ignore[attr-defined]
    with pytest.raises(client.exceptions.ImageAlreadyExistsException):
        client.put_image(repositoryName="app/web", imageManifest=manifest("a"), imageTag="1")


def test_other_regions_are_plain_moto(bridge: Bridge) -> None:
    client = _ecr("eu-west-1")
    client.create_repository(repositoryName="app/web")
    client.put_image(repositoryName="app/web", imageManifest=manifest("a"), imageTag="1")
    assert bridge.registry.calls == []  # type: ignore[attr-defined]
