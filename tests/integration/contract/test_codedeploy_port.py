"""The CodeDeployApi port's contract: the fake the ECS unit tests use and the boto3
adapter against the sandbox's CodeDeploy (moto's) answer the same cases the same way.

moto's CodeDeploy keeps a deployment `Created` for ever, gives uuid ids (CodeDeploy's
are `d-` and nine characters) and has no StopDeployment, so the contract covers what
it does emulate: a blue/green group's designed waits, a new deployment's first
status, and an id CodeDeploy never gave.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from pipeline.adapters.ecs import BotoCodeDeploy
from pipeline.ecs.ports import CodeDeployApi, CodeDeployStatus, EcsApiError
from tests.integration.sandboxes import aws_client
from tests.unit.ecs.fakes import FakeCodeDeploy

APPSPEC = '{"version": 0.0, "Resources": []}\n'


@dataclass
class World:
    """One side: the port, and a maker of a blue/green deployment group whose ready
    wait and blue termination wait are the given minutes; returns (application, group)."""

    port: CodeDeployApi
    group: Callable[[int, int], tuple[str, str]]


def _fake() -> World:
    api = FakeCodeDeploy([CodeDeployStatus("Created")])

    def group(ready: int, blue: int) -> tuple[str, str]:
        api.extra = 60.0 * (ready + blue)
        return f"app-{uuid.uuid4().hex[:8]}", "grp"

    return World(api, group)


def _real(sandbox: dict[str, str]) -> World:
    raw = aws_client(sandbox, "codedeploy", one_attempt=True)

    def group(ready: int, blue: int) -> tuple[str, str]:
        application = f"contract-{uuid.uuid4().hex[:8]}"
        raw.create_application(applicationName=application, computePlatform="ECS")
        raw.create_deployment_group(
            applicationName=application,
            deploymentGroupName="grp",
            serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
            deploymentStyle={
                "deploymentType": "BLUE_GREEN",
                "deploymentOption": "WITH_TRAFFIC_CONTROL",
            },
            blueGreenDeploymentConfiguration={
                "deploymentReadyOption": {
                    "actionOnTimeout": "CONTINUE_DEPLOYMENT",
                    "waitTimeInMinutes": ready,
                },
                "terminateBlueInstancesOnDeploymentSuccess": {
                    "action": "TERMINATE",
                    "terminationWaitTimeInMinutes": blue,
                },
            },
        )
        return application, "grp"

    return World(BotoCodeDeploy(raw), group)


@pytest.fixture(params=["fake", "real"])
def world(request: pytest.FixtureRequest, sandbox: dict[str, str]) -> Iterator[World]:
    yield _fake() if request.param == "fake" else _real(sandbox)


@pytest.mark.parametrize(("ready", "blue", "seconds"), [(0, 5, 300.0), (2, 0, 120.0)])
def test_a_blue_green_group_waits_its_ready_and_blue_termination_minutes(
    world: World, ready: int, blue: int, seconds: float
) -> None:
    application, group = world.group(ready, blue)
    assert world.port.extra_wait_seconds(application, group) == seconds


def test_a_new_deployment_is_not_finished_and_carries_no_error(world: World) -> None:
    application, group = world.group(0, 0)
    deployment = world.port.create_deployment(
        application, group, APPSPEC, "0" * 64, "pipeline contract"
    )
    assert deployment
    status = world.port.get_deployment(deployment)
    assert status.status in ("Created", "Queued", "InProgress")
    assert (status.error_code, status.error_message) == ("", "")
    assert (status.rollback_deployment_id, status.rollback_message) == (None, "")


def test_an_id_codedeploy_never_gave_is_a_named_error(world: World) -> None:
    world.group(0, 0)
    with pytest.raises(EcsApiError, match="GetDeployment d-NOTMINE00") as err:
        world.port.get_deployment("d-NOTMINE00")
    assert err.value.code == "DeploymentDoesNotExistException"
    assert not err.value.retryable
