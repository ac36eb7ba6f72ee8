"""moto's ECS, patched: task definitions keep every field boto3 sends, services keep theirs."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws

from pipeline.sandbox.aws_ecs import patch_ecs, requirements
from pipeline.sandbox.rollouts import Rollouts
from tests.taskdefs import APP, SIDECAR, TASK_DEFINITION
from tests.unit.sandbox.fakes import ACCOUNT, REGION

SESSION = boto3.session.Session(
    aws_access_key_id="a", aws_secret_access_key="b", region_name=REGION
)
NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
DESCRIBE_ONLY = (
    "taskDefinitionArn",
    "revision",
    "status",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "requiresAttributes",
)


@pytest.fixture
def ecs() -> Iterator[Any]:
    with _patched() as client:
        yield client


@pytest.fixture
def described(ecs: Any) -> dict[str, Any]:
    return _register_and_describe(ecs)


@pytest.fixture(scope="module")
def described_once() -> dict[str, Any]:
    """For the field-by-field checks, which only read: one registration for them all.

    The mock stops before the tests run, so it never overlaps another test's.
    """
    with _patched() as client:
        return _register_and_describe(client)


@contextmanager
def _patched() -> Iterator[Any]:
    with mock_aws():
        rollouts = Rollouts(account=ACCOUNT, region=REGION, now=lambda: NOW)
        undo = patch_ecs(rollouts, now=lambda: NOW)
        try:
            yield SESSION.client("ecs")
        finally:
            undo()


def _register_and_describe(ecs: Any) -> dict[str, Any]:
    ecs.register_task_definition(**copy.deepcopy(TASK_DEFINITION))
    answer: dict[str, Any] = ecs.describe_task_definition(taskDefinition="web", include=["TAGS"])
    return answer


@pytest.mark.parametrize("field", sorted(set(TASK_DEFINITION) - {"containerDefinitions", "tags"}))
def test_every_task_definition_field_round_trips(
    described_once: dict[str, Any], field: str
) -> None:
    assert described_once["taskDefinition"][field] == TASK_DEFINITION[field]


@pytest.mark.parametrize("container", [APP, SIDECAR], ids=lambda c: str(c["name"]))
def test_every_container_field_round_trips(
    described_once: dict[str, Any], container: dict[str, Any]
) -> None:
    back = next(
        c
        for c in described_once["taskDefinition"]["containerDefinitions"]
        if c["name"] == container["name"]
    )
    for key, value in container.items():
        assert (key, back.get(key)) == (key, value)
    # What ECS fills in for what was left out, as ECS does.
    filled = {k: back[k] for k in set(back) - set(container)}
    assert filled == {
        k: v
        for k, v in {
            "cpu": 0,
            "portMappings": [],
            "environment": [],
            "mountPoints": [],
            "volumesFrom": [],
        }.items()
        if k not in container
    }


def test_tags_come_back_with_include_tags(ecs: Any, described: dict[str, Any]) -> None:
    assert described["tags"] == TASK_DEFINITION["tags"]
    assert "tags" not in ecs.describe_task_definition(taskDefinition="web")


def test_the_describe_only_fields_are_there(described: dict[str, Any]) -> None:
    definition = described["taskDefinition"]
    assert set(DESCRIBE_ONLY) <= set(definition)
    assert (definition["revision"], definition["status"]) == (1, "ACTIVE")
    assert definition["registeredAt"] == NOW
    assert definition["registeredBy"] == "arn:aws:iam::123456789012:root"
    names = {a["name"] for a in definition["requiresAttributes"]}
    assert "ecs.capability.secrets.asm.environment-variables" in names
    assert "ecs.capability.task-eni" in names


def test_a_describe_output_registers_again_through_an_allowlist(
    ecs: Any, described: dict[str, Any]
) -> None:
    """What a deploy tool does: describe, keep RegisterTaskDefinition's members, register."""
    allowed = ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape.members
    again = {k: v for k, v in described["taskDefinition"].items() if k in allowed}
    again["tags"] = described["tags"]
    ecs.register_task_definition(**again)
    second = ecs.describe_task_definition(taskDefinition="web:2", include=["TAGS"])
    first = described["taskDefinition"]
    for key in set(first) - {"taskDefinitionArn", "revision"}:
        assert (key, second["taskDefinition"][key]) == (key, first[key])
    assert second["tags"] == described["tags"]


def test_deregistering_is_dated(ecs: Any, described: dict[str, Any]) -> None:
    gone = ecs.deregister_task_definition(taskDefinition="web:1")["taskDefinition"]
    assert (gone["status"], gone["deregisteredAt"]) == ("INACTIVE", NOW)


def test_requirements_follow_what_is_used() -> None:
    plain = SimpleNamespace(
        container_definitions=[{"name": "a", "image": "x"}], network_mode="bridge"
    )
    assert requirements(plain) == [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}]


def test_services_keep_the_fields_moto_drops(ecs: Any) -> None:
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(
        family="svc", containerDefinitions=[{"name": "a", "image": "x", "memory": 64}]
    )
    created = ecs.create_service(
        cluster="c",
        serviceName="web",
        taskDefinition="svc",
        desiredCount=1,
        healthCheckGracePeriodSeconds=45,
        enableExecuteCommand=True,
        placementStrategy=[{"type": "spread", "field": "attribute:ecs.availability-zone"}],
        deploymentConfiguration={"maximumPercent": 150, "minimumHealthyPercent": 50},
    )["service"]
    assert created["healthCheckGracePeriodSeconds"] == 45
    assert created["enableExecuteCommand"] is True
    assert created["placementStrategy"] == [
        {"type": "spread", "field": "attribute:ecs.availability-zone"}
    ]
    assert created["taskDefinition"] == "arn:aws:ecs:us-east-1:123456789012:task-definition/svc:1"
    updated = ecs.update_service(cluster="c", service="web", healthCheckGracePeriodSeconds=90)[
        "service"
    ]
    assert updated["healthCheckGracePeriodSeconds"] == 90
    config = ecs.describe_services(cluster="c", services=["web"])["services"][0][
        "deploymentConfiguration"
    ]
    assert (config["maximumPercent"], config["minimumHealthyPercent"]) == (150, 50)


def test_an_awsvpc_service_needs_no_security_groups(ecs: Any) -> None:
    ec2 = SESSION.client("ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(**copy.deepcopy(TASK_DEFINITION))
    network = {"awsvpcConfiguration": {"subnets": [subnet], "assignPublicIp": "ENABLED"}}
    created = ecs.create_service(
        cluster="c",
        serviceName="web",
        taskDefinition="web",
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=network,
    )["service"]
    assert created["networkConfiguration"] == network  # as sent
    assert created["deployments"][0]["networkConfiguration"] == network
    assert (created["createdAt"], created["createdBy"]) == (NOW, "arn:aws:iam::123456789012:root")
