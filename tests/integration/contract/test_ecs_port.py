"""The EcsApi port's contract, for what the fake does not script: the fake the ECS deploy's
unit tests use (FakeEcs) and the boto3 adapter (against the sandbox's ECS) agree on which
members a task definition may be registered with, on registering revisions and reading
them back (by ARN, by family:revision, by family for the latest, with their tags), on
deregistering a revision (it reads back INACTIVE), on an unknown task definition, and on
a service that is not there. (How a service rolls out is scripted per test in the fake;
the rollout's integration tests run it against the sandbox.)"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from pipeline.adapters.ecs import BotoEcs
from pipeline.ecs.ports import EcsApi, EcsApiError
from tests.integration.sandboxes import aws_client
from tests.unit.ecs.fakes import FakeEcs


@pytest.fixture(params=["fake", "boto-ecs"])
def ecs(request: pytest.FixtureRequest, sandbox: dict[str, str]) -> EcsApi:
    if request.param == "fake":
        return FakeEcs(None)
    return BotoEcs(aws_client(sandbox, "ecs", one_attempt=True))


def _family() -> str:
    return f"contract-{uuid.uuid4().hex[:8]}"


def _request(family: str, image: str, **extra: Any) -> dict[str, Any]:
    return {
        "family": family,
        "containerDefinitions": [
            {"name": "app", "image": image, "essential": True, "memory": 128},
            {"name": "envoy", "image": "public.ecr.aws/appmesh/envoy:v1", "memory": 64},
        ],
        **extra,
    }


def test_the_members_a_task_definition_may_be_registered_with(ecs: EcsApi) -> None:
    keys = ecs.registrable_keys()
    assert {"family", "containerDefinitions", "tags", "cpu", "memory"} <= keys
    assert not {"taskDefinitionArn", "revision", "status", "registeredAt"} & keys


def test_a_registered_revision_reads_back_with_its_tags(ecs: EcsApi) -> None:
    family = _family()
    tags = [{"key": "team", "value": "shop"}]
    arn = ecs.register_task_definition(_request(family, "r/app:1", tags=tags))
    assert arn.startswith("arn:aws:ecs:") and arn.endswith(f":task-definition/{family}:1")
    described = ecs.describe_task_definition(arn)
    td = described["taskDefinition"]
    assert (td["taskDefinitionArn"], td["family"], td["revision"]) == (arn, family, 1)
    assert [(c["name"], c["image"]) for c in td["containerDefinitions"]] == [
        ("app", "r/app:1"),
        ("envoy", "public.ecr.aws/appmesh/envoy:v1"),
    ]
    assert described.get("tags") == tags
    assert "tags" not in td  # tags come beside the task definition, not inside it


def test_revisions_count_up_and_the_family_names_the_latest(ecs: EcsApi) -> None:
    family = _family()
    first = ecs.register_task_definition(_request(family, "r/app:1"))
    second = ecs.register_task_definition(_request(family, "r/app:2"))
    assert (first.rsplit(":", 1)[1], second.rsplit(":", 1)[1]) == ("1", "2")
    latest = ecs.describe_task_definition(family)["taskDefinition"]
    assert (latest["taskDefinitionArn"], latest["revision"]) == (second, 2)
    by_revision = ecs.describe_task_definition(f"{family}:1")["taskDefinition"]
    assert by_revision["taskDefinitionArn"] == first
    assert by_revision["containerDefinitions"][0]["image"] == "r/app:1"


def test_a_deregistered_revision_reads_back_inactive_and_the_others_stay(ecs: EcsApi) -> None:
    family = _family()
    first = ecs.register_task_definition(_request(family, "r/app:1"))
    second = ecs.register_task_definition(_request(family, "r/app:2"))
    ecs.deregister_task_definition(second)
    assert ecs.describe_task_definition(second)["taskDefinition"]["status"] == "INACTIVE"
    assert ecs.describe_task_definition(first)["taskDefinition"]["status"] == "ACTIVE"


def test_an_unknown_task_definition_is_an_error_naming_it(ecs: EcsApi) -> None:
    family = _family()
    with pytest.raises(EcsApiError) as failed:
        ecs.describe_task_definition(f"{family}:3")
    assert failed.value.code == "ClientException"
    assert not failed.value.retryable
    assert f"{family}:3" in str(failed.value)


def test_a_service_that_is_not_there_is_none(ecs: EcsApi, sandbox: dict[str, str]) -> None:
    cluster = _family()
    aws_client(sandbox, "ecs").create_cluster(clusterName=cluster)
    assert ecs.describe_service(cluster, "nowhere") is None
