"""ECS rollouts through boto3: deployments that move with a fake clock, fail, roll back, bake.

moto runs in-process with the sandbox's ECS patches; `World.at` moves the
clock and ticks, as the server's thread would, so nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws

from pipeline.sandbox.aws_ecs import patch_ecs
from pipeline.sandbox.channel import ActionError
from pipeline.sandbox.rollouts import FAILED_REASON, Rollouts, Timing, _threshold
from tests.unit.sandbox.fakes import ACCOUNT, REGION

SESSION = boto3.session.Session(
    aws_access_key_id="a", aws_secret_access_key="b", region_name=REGION
)
ROLLOUT = 10.0  # seconds: tasks run at 4, old ones stop at 7, COMPLETED at 10


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    ecs: Any
    rollouts: Rollouts
    clock: Clock
    started: datetime

    def at(self, seconds: float) -> dict[str, Any]:
        """The service `seconds` after the world began (time only moves forward)."""
        target = self.started + timedelta(seconds=seconds)
        assert target >= self.clock.now
        self.clock.now = target
        self.rollouts.tick()
        return self.service()

    def later(self, seconds: float) -> dict[str, Any]:
        return self.at((self.clock.now - self.started).total_seconds() + seconds)

    def service(self, name: str = "web") -> dict[str, Any]:
        answer: dict[str, Any] = self.ecs.describe_services(cluster="c", services=[name])
        return dict(answer["services"][0])

    def update(self, **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self.ecs.update_service(cluster="c", service="web", **kwargs)
        return dict(answer["service"])

    def tasks(self, status: str = "RUNNING") -> list[dict[str, Any]]:
        arns = self.ecs.list_tasks(cluster="c", serviceName="web", desiredStatus=status)
        if not arns["taskArns"]:
            return []
        return list(self.ecs.describe_tasks(cluster="c", tasks=arns["taskArns"])["tasks"])


def _view(service: dict[str, Any]) -> list[tuple[str, str, str, int, int]]:
    """Each deployment as (status, rolloutState, task definition, running, pending)."""
    return [
        (
            d["status"],
            d["rolloutState"],
            d["taskDefinition"].rsplit("/", 1)[-1],
            d["runningCount"],
            d["pendingCount"],
        )
        for d in service["deployments"]
    ]


def _messages(service: dict[str, Any]) -> list[str]:
    return [e["message"] for e in service["events"]]


@pytest.fixture
def world() -> Iterator[World]:
    clock = Clock()
    with mock_aws():
        rollouts = Rollouts(account=ACCOUNT, region=REGION, timing=Timing(ROLLOUT, 1.0), now=clock)
        undo = patch_ecs(rollouts, now=clock)
        ecs = SESSION.client("ecs", config=Config(retries={"total_max_attempts": 1}))
        ecs.create_cluster(clusterName="c")
        for image in ("app:1", "app:2", "app:3"):
            ecs.register_task_definition(
                family="web", containerDefinitions=[{"name": "app", "image": image, "memory": 64}]
            )
        made = World(ecs, rollouts, clock, clock.now)
        try:
            yield made
        finally:
            undo()


def _create(world: World, desired: int = 2, **kwargs: Any) -> dict[str, Any]:
    answer = world.ecs.create_service(
        cluster="c", serviceName="web", taskDefinition="web:1", desiredCount=desired, **kwargs
    )
    return dict(answer["service"])


def _settled(world: World, desired: int = 2, **kwargs: Any) -> dict[str, Any]:
    """A service whose first rollout has completed."""
    _create(world, desired, **kwargs)
    return world.later(ROLLOUT)


def test_a_new_service_rolls_out(world: World) -> None:
    created = _create(world)
    assert _view(created) == [("PRIMARY", "IN_PROGRESS", "web:1", 0, 2)]
    assert (created["runningCount"], created["pendingCount"]) == (0, 2)
    assert _view(world.at(4)) == [("PRIMARY", "IN_PROGRESS", "web:1", 2, 0)]
    done = world.at(10)
    assert _view(done) == [("PRIMARY", "COMPLETED", "web:1", 2, 0)]
    deployment = done["deployments"][0]
    assert deployment["rolloutStateReason"] == f"ECS deployment {deployment['id']} completed."
    assert _messages(done)[:2] == [
        f"(service web) (deployment {deployment['id']}) deployment completed.",
        "(service web) has reached a steady state.",
    ]
    assert _messages(done)[2].startswith("(service web) has started 2 tasks: (task ")
    assert len(world.tasks()) == 2


def test_a_new_task_definition_is_a_new_primary_deployment(world: World) -> None:
    first = _settled(world)["deployments"][0]["id"]
    updated = world.update(taskDefinition="web:2")
    new = updated["deployments"][0]["id"]
    assert new != first and new.startswith("ecs-svc/")
    assert _view(updated) == [
        ("PRIMARY", "IN_PROGRESS", "web:2", 0, 2),
        ("ACTIVE", "COMPLETED", "web:1", 2, 0),
    ]
    assert updated["taskDefinition"].endswith("task-definition/web:2")
    both = world.later(4)
    assert (both["runningCount"], both["desiredCount"]) == (4, 2)
    stable = world.later(3)  # the old deployment is gone; the rollout is not done yet
    assert _view(stable) == [("PRIMARY", "IN_PROGRESS", "web:2", 2, 0)]
    assert _messages(stable)[:2] == [
        "(service web) has reached a steady state.",
        _messages(stable)[1],
    ]
    assert _messages(stable)[1].startswith("(service web) has stopped 2 running tasks")
    stopped = world.tasks("STOPPED")
    assert {t["stoppedReason"] for t in stopped} == {
        f"Scaling activity initiated by (deployment {new})"
    }
    assert {t["stopCode"] for t in stopped} == {"ServiceSchedulerInitiated"}
    assert {t["taskDefinitionArn"].rsplit("/", 1)[-1] for t in world.tasks()} == {"web:2"}
    assert _view(world.later(3)) == [("PRIMARY", "COMPLETED", "web:2", 2, 0)]


def test_force_new_deployment_with_the_same_task_definition(world: World) -> None:
    first = _settled(world)["deployments"][0]["id"]
    forced = world.update(forceNewDeployment=True)
    assert forced["deployments"][0]["id"] != first
    assert _view(forced)[0] == ("PRIMARY", "IN_PROGRESS", "web:1", 0, 2)
    assert _view(world.later(ROLLOUT)) == [("PRIMARY", "COMPLETED", "web:1", 2, 0)]


def test_the_same_task_definition_without_force_is_no_deployment(world: World) -> None:
    first = _settled(world)["deployments"][0]["id"]
    assert [d["id"] for d in world.update(taskDefinition="web:1")["deployments"]] == [first]


def test_desired_count_zero_completes_at_once(world: World) -> None:
    _settled(world)
    updated = world.update(taskDefinition="web:2", desiredCount=0)
    assert _view(updated) == [("PRIMARY", "COMPLETED", "web:2", 0, 0)]
    assert world.tasks() == []
    assert "(service web) has reached a steady state." in _messages(updated)


def test_scaling_alone_keeps_the_deployment(world: World) -> None:
    first = _settled(world)["deployments"][0]["id"]
    scaled = world.update(desiredCount=4)
    assert [(d["id"], d["desiredCount"], d["runningCount"]) for d in scaled["deployments"]] == [
        (first, 4, 2)
    ]
    assert scaled["pendingCount"] == 2
    assert world.later(4)["runningCount"] == 4
    down = world.update(desiredCount=1)
    assert (down["runningCount"], len(world.tasks())) == (1, 1)


def test_fail_next_fails_the_rollout_and_the_breaker_rolls_back(world: World) -> None:
    good = _settled(world)["deployments"][0]["id"]
    assert world.rollouts.fail_next({"cluster": "c", "service": "web"})["reason"]
    bad = world.update(taskDefinition="web:2")["deployments"][0]["id"]
    failing = world.later(ROLLOUT - 0.1)
    assert _view(failing) == [
        ("PRIMARY", "IN_PROGRESS", "web:2", 0, 2),
        ("ACTIVE", "COMPLETED", "web:1", 2, 0),
    ]
    assert failing["deployments"][0]["failedTasks"] == 2
    rolling_back = world.later(0.1)
    assert _view(rolling_back) == [
        ("PRIMARY", "IN_PROGRESS", "web:1", 2, 0),
        ("ACTIVE", "FAILED", "web:2", 0, 0),
    ]
    failed = rolling_back["deployments"][1]
    assert (failed["id"], failed["rolloutStateReason"], failed["failedTasks"]) == (
        bad,
        FAILED_REASON,
        3,
    )
    assert rolling_back["deployments"][0]["id"] == good
    assert rolling_back["taskDefinition"].endswith("web:1")
    assert _messages(rolling_back)[:2] == [
        f"(service web) rolling back to deployment {good}.",
        f"(service web) (deployment {bad}) deployment failed: tasks failed to start.",
    ]
    stopped = world.tasks("STOPPED")
    assert len(stopped) == 3
    assert {(t["stoppedReason"], t["stopCode"]) for t in stopped} == {
        ("Essential container in task exited", "EssentialContainerExited")
    }
    assert {c["exitCode"] for t in stopped for c in t["containers"]} == {1}
    restored = world.later(ROLLOUT / 2)
    assert _view(restored) == [("PRIMARY", "COMPLETED", "web:1", 2, 0)]
    assert _messages(restored)[0] == f"(service web) (deployment {good}) deployment completed."


def test_fail_next_is_used_by_one_rollout(world: World) -> None:
    _settled(world)
    world.rollouts.fail_next(
        {"cluster": "c", "service": "web", "reason": "CannotPullContainerError"}
    )
    world.update(taskDefinition="web:2")
    world.later(ROLLOUT * 1.5)
    assert {(t["stoppedReason"], t["stopCode"]) for t in world.tasks("STOPPED")} == {
        ("CannotPullContainerError", "TaskFailedToStart")
    }
    world.update(taskDefinition="web:3")
    assert _view(world.later(ROLLOUT)) == [("PRIMARY", "COMPLETED", "web:3", 2, 0)]


def test_a_breaker_without_rollback_leaves_the_failed_deployment_primary(world: World) -> None:
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": False}}
    _settled(world, deploymentConfiguration=breaker)
    world.rollouts.fail_next({"cluster": "c", "service": "web"})
    world.update(taskDefinition="web:2")
    failed = world.later(ROLLOUT * 3)
    assert _view(failed) == [
        ("PRIMARY", "FAILED", "web:2", 0, 0),
        ("ACTIVE", "COMPLETED", "web:1", 2, 0),
    ]
    assert failed["taskDefinition"].endswith("web:2")


def test_a_disabled_breaker_fails_tasks_forever(world: World) -> None:
    breaker = {"deploymentCircuitBreaker": {"enable": False, "rollback": False}}
    _settled(world, deploymentConfiguration=breaker)
    world.rollouts.fail_next({"cluster": "c", "service": "web"})
    world.update(taskDefinition="web:2")
    service = world.later(ROLLOUT * 5)
    assert _view(service)[0] == ("PRIMARY", "IN_PROGRESS", "web:2", 0, 2)
    assert service["deployments"][0]["failedTasks"] >= 15


def test_a_fail_next_waits_for_a_rollout_that_starts_tasks(world: World) -> None:
    _settled(world)
    world.rollouts.fail_next({"cluster": "c", "service": "web"})
    assert _view(world.update(taskDefinition="web:2", desiredCount=0))[0][1] == "COMPLETED"
    world.update(taskDefinition="web:3", desiredCount=2)
    assert _view(world.later(ROLLOUT * 2))[0][:3] == ("PRIMARY", "COMPLETED", "web:2")


@pytest.mark.parametrize(
    ("desired", "threshold"), [(1, 3), (2, 3), (6, 3), (7, 4), (10, 5), (1000, 200)]
)
def test_the_breaker_threshold(desired: int, threshold: int) -> None:
    assert _threshold(desired) == threshold


def test_blue_green_bakes_while_the_service_looks_stable(world: World) -> None:
    config = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 30}  # 30 s here
    _settled(world, deploymentConfiguration=config)
    assert world.service()["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    world.update(taskDefinition="web:2")
    baking = world.later(7)
    assert _view(baking) == [("PRIMARY", "IN_PROGRESS", "web:2", 2, 0)]
    assert baking["runningCount"] == baking["desiredCount"]  # what services_stable checks
    assert _messages(baking)[0] == "(service web) has reached a steady state."
    assert len(world.tasks()) == 4  # blue still runs during the bake
    assert _view(world.later(29.9))[0][1] == "IN_PROGRESS"
    done = world.later(0.1)
    assert _view(done) == [("PRIMARY", "COMPLETED", "web:2", 2, 0)]
    assert {t["taskDefinitionArn"].rsplit("/", 1)[-1] for t in world.tasks()} == {"web:2"}


def test_a_first_blue_green_deployment_has_nothing_to_bake(world: World) -> None:
    _create(world, deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 30})
    assert _view(world.at(ROLLOUT)) == [("PRIMARY", "COMPLETED", "web:1", 2, 0)]


def test_the_deployment_configuration_is_kept_with_ecs_defaults(world: World) -> None:
    breaker = {"enable": True, "rollback": True}
    created = _create(world, deploymentConfiguration={"deploymentCircuitBreaker": breaker})
    assert created["deploymentConfiguration"] == {
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "strategy": "ROLLING",
        "deploymentCircuitBreaker": breaker,
    }
    world.update(deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5})
    kept = world.service()["deploymentConfiguration"]
    assert (kept["strategy"], kept["bakeTimeInMinutes"], kept["deploymentCircuitBreaker"]) == (
        "BLUE_GREEN",
        5,
        breaker,
    )


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"cluster": "c", "service": "nope"}, "no active ECS service 'nope' in cluster 'c'"),
        ({"cluster": "x", "service": "web"}, "no active ECS service 'web' in cluster 'x'"),
        ({"cluster": "c"}, "needs a cluster and a service"),
        ({"cluster": "c", "service": 5}, "needs a cluster and a service"),
    ],
)
def test_fail_next_names_a_service_that_exists(
    world: World, request_: dict[str, Any], message: str
) -> None:
    _create(world)
    with pytest.raises(ActionError, match=message):
        world.rollouts.fail_next(request_)


def test_fail_next_refuses_services_ecs_does_not_roll_out(world: World) -> None:
    world.ecs.create_service(
        cluster="c",
        serviceName="blue",
        taskDefinition="web:1",
        desiredCount=1,
        deploymentController={"type": "CODE_DEPLOY"},
    )
    with pytest.raises(ActionError, match="CODE_DEPLOY deployment controller"):
        world.rollouts.fail_next({"cluster": "c", "service": "blue"})
    with pytest.raises(ClientError, match="Use AWS CodeDeploy"):
        world.ecs.update_service(cluster="c", service="blue", taskDefinition="web:2")


def test_update_service_refuses_what_ecs_refuses(world: World) -> None:
    _settled(world)
    world.ecs.deregister_task_definition(taskDefinition="web:3")
    with pytest.raises(ClientError, match="TaskDefinition is inactive"):
        world.update(taskDefinition="web:3")
    with pytest.raises(ClientError) as missing:
        world.ecs.update_service(cluster="c", service="nope", taskDefinition="web:2")
    assert missing.value.response["Error"]["Code"] == "ServiceNotFoundException"
    world.update(desiredCount=0)
    world.ecs.delete_service(cluster="c", service="web")
    assert world.service()["status"] == "DRAINING"
    with pytest.raises(ClientError) as inactive:
        world.update(taskDefinition="web:2")
    assert inactive.value.response["Error"]["Code"] == "ServiceNotActiveException"
    assert world.later(ROLLOUT)["status"] == "INACTIVE"


def test_list_tasks_filters_by_service_and_is_running_by_default(world: World) -> None:
    _settled(world)
    world.ecs.create_service(cluster="c", serviceName="api", taskDefinition="web:1", desiredCount=3)
    world.later(ROLLOUT)
    assert len(world.ecs.list_tasks(cluster="c")["taskArns"]) == 5
    assert len(world.ecs.list_tasks(cluster="c", serviceName="api")["taskArns"]) == 3
    stopped = world.ecs.list_tasks(cluster="c", serviceName="web", desiredStatus="STOPPED")
    assert stopped["taskArns"] == []
    with pytest.raises(ClientError) as missing:
        world.ecs.list_tasks(cluster="c", serviceName="nope")
    assert missing.value.response["Error"]["Code"] == "ServiceNotFoundException"


@pytest.mark.parametrize(
    ("env", "timing"),
    [
        ({}, Timing(2.0, 1.0)),
        ({"PIPELINE_SANDBOX_ECS_ROLLOUT_SECONDS": "0.5"}, Timing(0.5, 1.0)),
        ({"PIPELINE_SANDBOX_ECS_BAKE_SECONDS_PER_MINUTE": "0"}, Timing(2.0, 0.0)),
    ],
)
def test_timing_from_the_environment(env: dict[str, str], timing: Timing) -> None:
    assert Timing.from_env(env) == timing


@pytest.mark.parametrize("raw", ["fast", "-1", "nan", "1e9"])
def test_bad_timing_names_its_variable(raw: str) -> None:
    with pytest.raises(ValueError, match="PIPELINE_SANDBOX_ECS_ROLLOUT_SECONDS"):
        Timing.from_env({"PIPELINE_SANDBOX_ECS_ROLLOUT_SECONDS": raw})
