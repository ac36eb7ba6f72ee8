"""The AWS APIs the pipeline uses all answer at AWS_ENDPOINT_URL."""

from __future__ import annotations

from typing import Any

import boto3


def test_sts_ecs_eks_iam_ec2_answer(sandbox: dict[str, str]) -> None:
    session = boto3.Session(
        aws_access_key_id=sandbox["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=sandbox["AWS_SECRET_ACCESS_KEY"],
        region_name=sandbox["AWS_REGION"],
    )

    def client(name: str) -> Any:
        return session.client(name, endpoint_url=sandbox["AWS_ENDPOINT_URL"])

    identity = client("sts").get_caller_identity()
    assert identity["Account"] == sandbox["AWS_ACCOUNT_ID"]
    # Other tests share the sandbox and create clusters: only the answers' shapes count.
    assert isinstance(client("ecs").list_clusters()["clusterArns"], list)
    assert isinstance(client("eks").list_clusters()["clusters"], list)
    assert "Roles" in client("iam").list_roles()
    assert client("ec2").describe_vpcs()["Vpcs"]  # moto's default VPC
