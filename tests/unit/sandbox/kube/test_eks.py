"""moto's EKS clusters point at the emulated Kubernetes API (in-process moto)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from pipeline.sandbox.kube.eks import patch_eks

ENDPOINT = "https://127.0.0.1:5104"
CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="


@pytest.fixture
def patched() -> Iterator[None]:
    with mock_aws():
        undo = patch_eks(ENDPOINT, CA)
        try:
            yield
        finally:
            undo()


def _create(region: str, name: str) -> dict[str, object]:
    eks = boto3.client("eks", region_name=region, aws_access_key_id="a", aws_secret_access_key="b")
    eks.create_cluster(
        name=name,
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": []},
    )
    cluster: dict[str, object] = eks.describe_cluster(name=name)["cluster"]
    return cluster


@pytest.mark.usefixtures("patched")
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_every_cluster_gets_the_api_endpoint_and_its_ca(region: str) -> None:
    cluster = _create(region, "prod")
    assert cluster["endpoint"] == ENDPOINT
    assert cluster["certificateAuthority"] == {"data": CA}
    assert cluster["status"] == "ACTIVE"


def test_undo_restores_moto() -> None:
    with mock_aws():
        patch_eks(ENDPOINT, CA)()
        assert _create("us-east-1", "other")["endpoint"] != ENDPOINT
