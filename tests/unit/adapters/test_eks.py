"""Reaching an EKS cluster: DescribeCluster's answers and the region, as errors of ours."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from pipeline.adapters.eks import Connector
from pipeline.deployment import DeployError
from pipeline.kube.ports import Cluster


def stubbed(region: str = "eu-west-1") -> tuple[Any, Stubber]:
    client = boto3.client(
        "eks", region_name=region, aws_access_key_id="x", aws_secret_access_key="y"
    )
    return client, Stubber(client)


@pytest.mark.parametrize(
    ("response", "endpoint", "ca"),
    [
        (
            {
                "status": "ACTIVE",
                "endpoint": "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
                "certificateAuthority": {"data": "Q0E="},
            },
            "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
            "Q0E=",
        ),
        ({"status": "UPDATING", "endpoint": "https://x"}, "https://x", None),
    ],
)
def test_describe_gives_the_endpoint_and_ca(
    response: dict[str, Any], endpoint: str, ca: str | None
) -> None:
    client, stub = stubbed()
    stub.add_response(
        "describe_cluster", {"cluster": {"name": "prod", **response}}, {"name": "prod"}
    )
    with stub:
        assert Connector("eu-west-1", {}, eks=lambda r: client).describe("prod", "eu-west-1") == (
            endpoint,
            ca,
        )


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("ResourceNotFoundException", None, "EKS cluster prod not found in eu-west-1"),
        ("AccessDeniedException", None, "describing EKS cluster prod: AccessDeniedException"),
        (None, "CREATING", "EKS cluster prod in eu-west-1 is CREATING, not ACTIVE"),
        (None, "FAILED", "is FAILED, not ACTIVE"),
    ],
)
def test_describe_failures_name_the_cluster(
    code: str | None, status: str | None, message: str
) -> None:
    client, stub = stubbed()
    if code:
        stub.add_client_error("describe_cluster", code, "nope", expected_params={"name": "prod"})
    else:
        stub.add_response("describe_cluster", {"cluster": {"name": "prod", "status": status}})
    with stub, pytest.raises(DeployError, match=message):
        Connector("eu-west-1", {}, eks=lambda r: client).describe("prod", "eu-west-1")


@pytest.mark.parametrize(
    ("target_region", "default", "env", "expected"),
    [
        ("ap-south-1", "eu-west-1", {"AWS_REGION": "us-east-1"}, "ap-south-1"),
        (None, "eu-west-1", {"AWS_REGION": "us-east-1"}, "eu-west-1"),
        (None, None, {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "x"}, "us-east-1"),
        (None, None, {"AWS_DEFAULT_REGION": "us-west-2"}, "us-west-2"),
    ],
)
def test_the_region_is_the_targets_then_the_runs_then_the_environments(
    target_region: str | None, default: str | None, env: dict[str, str], expected: str
) -> None:
    asked: list[str] = []

    def eks(region: str) -> Any:
        asked.append(region)
        raise DeployError("stop here")

    with pytest.raises(DeployError, match="stop here"):
        Connector(default, env, eks=eks).connect(Cluster(name="prod", region=target_region))
    assert asked == [expected]


def test_no_region_at_all_is_a_clear_error() -> None:
    with pytest.raises(DeployError, match="no region for EKS cluster prod"):
        Connector(None, {}).connect(Cluster(name="prod"))
