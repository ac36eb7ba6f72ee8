"""ECS rollouts against the running sandbox: boto3 calls, real time, the fail-next CLI."""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.taskdefs import APP, SIDECAR, TASK_DEFINITION

Cli = Callable[..., tuple[int, str]]
DEADLINE = 15.0  # seconds; a sandbox rollout takes 2


def _service(ecs: Any, desired: int = 2, **kwargs: Any) -> tuple[str, str, list[str]]:
    """A fresh cluster and service on the first of three revisions: (cluster, service, arns)."""
    cluster = f"sbx-{uuid.uuid4().hex[:8]}"
    ecs.create_cluster(clusterName=cluster)
    arns = [
        ecs.register_task_definition(
            family=cluster,
            containerDefinitions=[{"name": "app", "image": f"app:{n}", "memory": 64}],
        )["taskDefinition"]["taskDefinitionArn"]
        for n in (1, 2, 3)
    ]
    ecs.create_service(
        cluster=cluster, serviceName="web", taskDefinition=arns[0], desiredCount=desired, **kwargs
    )
    return cluster, "web", arns


def _describe(ecs: Any, cluster: str, service: str) -> dict[str, Any]:
    return dict(ecs.describe_services(cluster=cluster, services=[service])["services"][0])


def _follow(
    ecs: Any, cluster: str, service: str, deployment: str, seen: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Poll until that deployment leaves IN_PROGRESS (or leaves the list); the last service."""
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE:
        current = _describe(ecs, cluster, service)
        if seen is not None:
            seen.append(current)
        mine = [d for d in current["deployments"] if d["id"] == deployment]
        if not mine or mine[0]["rolloutState"] != "IN_PROGRESS":
            return current
        time.sleep(0.1)  # polling the real server, as a client would
    pytest.fail(f"deployment {deployment} still IN_PROGRESS after {DEADLINE} s")


def _primary(service: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in service["deployments"] if d["status"] == "PRIMARY")


def test_update_service_rolls_out_to_completed(ecs: Any) -> None:
    cluster, name, arns = _service(ecs)
    first = _primary(_describe(ecs, cluster, name))["id"]
    assert _primary(_follow(ecs, cluster, name, first))["rolloutState"] == "COMPLETED"
    updated = ecs.update_service(cluster=cluster, service=name, taskDefinition=arns[1])["service"]
    new = _primary(updated)
    assert (new["rolloutState"], new["taskDefinition"], new["runningCount"]) == (
        "IN_PROGRESS",
        arns[1],
        0,
    )
    assert new["id"] != first
    seen: list[dict[str, Any]] = []
    started = time.monotonic()
    done = _follow(ecs, cluster, name, new["id"], seen)
    assert time.monotonic() - started < 5
    assert [(d["id"], d["rolloutState"]) for d in done["deployments"]] == [(new["id"], "COMPLETED")]
    assert (done["runningCount"], done["desiredCount"], done["taskDefinition"]) == (2, 2, arns[1])
    assert any(len(s["deployments"]) == 2 for s in seen)  # the old one was ACTIVE for a while
    messages = [e["message"] for e in done["events"]]
    assert messages[0] == f"(service web) (deployment {new['id']}) deployment completed."
    assert "(service web) has reached a steady state." in messages
    running = ecs.list_tasks(cluster=cluster, serviceName=name)["taskArns"]
    described = ecs.describe_tasks(cluster=cluster, tasks=running)["tasks"]
    assert {t["taskDefinitionArn"] for t in described} == {arns[1]}
    waiter = ecs.get_waiter("services_stable")
    waiter.wait(cluster=cluster, services=[name], WaiterConfig={"Delay": 1, "MaxAttempts": 3})


def test_force_new_deployment_is_followed_by_its_id(ecs: Any) -> None:
    cluster, name, arns = _service(ecs, desired=1)
    first = _primary(_describe(ecs, cluster, name))["id"]
    forced = ecs.update_service(cluster=cluster, service=name, forceNewDeployment=True)["service"]
    new = _primary(forced)["id"]
    assert new != first
    done = _follow(ecs, cluster, name, new)
    assert (_primary(done)["id"], _primary(done)["rolloutState"]) == (new, "COMPLETED")
    assert done["taskDefinition"] == arns[0]


def test_fail_next_ends_failed_with_a_circuit_breaker_rollback(ecs: Any, sandbox_cli: Cli) -> None:
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    cluster, name, arns = _service(ecs, deploymentConfiguration=breaker)
    good = _primary(_describe(ecs, cluster, name))["id"]
    _follow(ecs, cluster, name, good)
    code, out = sandbox_cli("fail-next", "ecs", f"{cluster}/{name}")
    assert (code, out.strip()) == (0, f"the next rollout of ecs {cluster}/{name} will fail")
    bad = _primary(
        ecs.update_service(cluster=cluster, service=name, taskDefinition=arns[1])["service"]
    )["id"]
    failed = _follow(ecs, cluster, name, bad)
    mine = next(d for d in failed["deployments"] if d["id"] == bad)
    assert mine["rolloutState"] == "FAILED"
    assert mine["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    assert mine["failedTasks"] == 3
    assert failed["taskDefinition"] == arns[0]  # back on the previous revision
    assert _primary(failed)["id"] == good
    messages = [e["message"] for e in failed["events"]]
    assert f"(service web) (deployment {bad}) deployment failed: tasks failed to start." in messages
    assert f"(service web) rolling back to deployment {good}." in messages
    stopped = ecs.list_tasks(cluster=cluster, serviceName=name, desiredStatus="STOPPED")
    tasks = ecs.describe_tasks(cluster=cluster, tasks=stopped["taskArns"])["tasks"]
    assert {(t["stoppedReason"], t["taskDefinitionArn"]) for t in tasks} == {
        ("Essential container in task exited", arns[1])
    }
    restored = _follow(ecs, cluster, name, good)
    assert [(d["id"], d["rolloutState"]) for d in restored["deployments"]] == [(good, "COMPLETED")]
    # The next rollout is a normal one again.
    again = _primary(
        ecs.update_service(cluster=cluster, service=name, taskDefinition=arns[2])["service"]
    )["id"]
    assert _primary(_follow(ecs, cluster, name, again))["rolloutState"] == "COMPLETED"


def test_blue_green_stays_in_progress_through_the_bake(ecs: Any) -> None:
    config = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 3}  # three seconds here
    cluster, name, arns = _service(ecs, deploymentConfiguration=config)
    _follow(ecs, cluster, name, _primary(_describe(ecs, cluster, name))["id"])
    started = time.monotonic()
    new = _primary(
        ecs.update_service(cluster=cluster, service=name, taskDefinition=arns[1])["service"]
    )["id"]
    seen: list[dict[str, Any]] = []
    done = _follow(ecs, cluster, name, new, seen)
    assert time.monotonic() - started >= 3
    assert _primary(done)["rolloutState"] == "COMPLETED"
    baking = [
        s
        for s in seen
        if len(s["deployments"]) == 1
        and s["runningCount"] == s["desiredCount"]
        and s["deployments"][0]["rolloutState"] == "IN_PROGRESS"
    ]
    assert len(baking) >= 5  # stable to the services_stable waiter, and still not done


def test_desired_count_zero_completes_at_once(ecs: Any) -> None:
    cluster, name, arns = _service(ecs)
    updated = ecs.update_service(
        cluster=cluster, service=name, taskDefinition=arns[1], desiredCount=0
    )["service"]
    assert [(d["rolloutState"], d["runningCount"]) for d in updated["deployments"]] == [
        ("COMPLETED", 0)
    ]


def test_task_definitions_keep_every_field(ecs: Any) -> None:
    sent = copy.deepcopy(TASK_DEFINITION)
    sent["family"] = f"sbx-fields-{uuid.uuid4().hex[:8]}"
    arn = ecs.register_task_definition(**sent)["taskDefinition"]["taskDefinitionArn"]
    answer = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
    back = answer["taskDefinition"]
    for key, value in sent.items():
        if key == "tags":
            assert answer["tags"] == value
        elif key == "containerDefinitions":
            for container in (APP, SIDECAR):
                mine = next(c for c in back[key] if c["name"] == container["name"])
                for field, expected in container.items():
                    assert (container["name"], field, mine.get(field)) == (
                        container["name"],
                        field,
                        expected,
                    )
        else:
            assert (key, back.get(key)) == (key, value)
    assert {"registeredAt", "registeredBy", "requiresAttributes"} <= set(back)


def test_fail_next_names_an_existing_service(sandbox_cli: Cli) -> None:
    code, out = sandbox_cli("fail-next", "ecs", "no-such-cluster/web")
    assert code == 1
    assert "no active ECS service 'web' in cluster 'no-such-cluster'" in out


def test_fail_next_eks_names_an_existing_deployment(sandbox_cli: Cli) -> None:
    code, out = sandbox_cli("fail-next", "eks", "default/no-such-deployment")
    assert code == 1
    assert 'no Deployment "no-such-deployment" in namespace "default"' in out
