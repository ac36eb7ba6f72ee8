"""Deploys followed to their end against the sandbox's ECS rollout emulation.

The emulation moves deployments IN_PROGRESS -> COMPLETED in about two
seconds, fails the next rollout of a service after `fail-next ecs` (circuit
breaker, rollback), and holds BLUE_GREEN rollouts IN_PROGRESS for their bake
time (a minute of bake is a second there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.adapters.ecs import BotoCodeDeploy, BotoEcs
from pipeline.ecs.deploy import Deployment, EcsJob, EcsPorts, EcsTarget, deploy_all, deploy_ecs
from pipeline.sandbox import Sandbox
from tests.integration.ecs.test_adapter import register_rich
from tests.unit.ecs.fakes import FakeAncestry, FakeLabels

REPO = "127.0.0.1:1/shop/web"
TARGET_GROUPS = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup"


def image(letter: str) -> str:
    return f"{REPO}@sha256:{letter * 64}"


def deploy(ecs: Any, cluster: str, service: str, letter: str, **target: Any) -> Deployment:
    # The guard's own ports are tested elsewhere; here nothing runs a labelled image.
    ports = EcsPorts(BotoEcs(ecs), FakeLabels(), FakeAncestry())
    return deploy_ecs(
        EcsTarget(cluster, service, wait=60.0, **target), image(letter), "2" * 40, ports
    )


def running_definition(ecs: Any, cluster: str, service: str) -> str:
    found = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    (primary,) = [d for d in found["deployments"] if d["status"] == "PRIMARY"]
    return str(primary["taskDefinition"])


def test_a_deploy_ends_on_the_digest_with_every_other_field_intact(
    clients: Callable[[str], Any], cluster: str, unique: str
) -> None:
    ecs = clients("ecs")
    first = register_rich(ecs, f"{REPO}:sha-1", unique)
    ecs.create_service(cluster=cluster, serviceName="web", taskDefinition=first, desiredCount=2)
    result = deploy(ecs, cluster, "web", "a")
    assert result.status == "completed", result.message
    assert running_definition(ecs, cluster, "web") == result.task_definition
    before = ecs.describe_task_definition(taskDefinition=first, include=["TAGS"])
    after = ecs.describe_task_definition(taskDefinition=result.task_definition, include=["TAGS"])
    assert after["tags"] == before["tags"]
    for key, value in before["taskDefinition"].items():
        if key in ("taskDefinitionArn", "revision", "registeredAt", "containerDefinitions"):
            continue
        assert after["taskDefinition"][key] == value, key
    for old, new in zip(
        before["taskDefinition"]["containerDefinitions"],
        after["taskDefinition"]["containerDefinitions"],
        strict=True,
    ):
        if old["name"] in ("app", "worker"):
            assert new == {**old, "image": image("a")}
        else:
            assert new == old
    tasks = ecs.list_tasks(cluster=cluster, serviceName="web")["taskArns"]
    described = ecs.describe_tasks(cluster=cluster, tasks=tasks)["tasks"]
    assert {t["taskDefinitionArn"] for t in described} == {result.task_definition}


def test_a_failing_rollout_is_rolled_back_and_says_why(
    clients: Callable[[str], Any], cluster: str, unique: str, sandbox_handle: Sandbox
) -> None:
    ecs = clients("ecs")
    first = register_rich(ecs, f"{REPO}:sha-1", unique)
    ecs.create_service(cluster=cluster, serviceName="web", taskDefinition=first, desiredCount=2)
    sandbox_handle.act("fail-next/ecs", {"cluster": cluster, "service": "web"})
    result = deploy(ecs, cluster, "web", "b")
    assert result.status == "rolled_back", result.message
    assert "ECS deployment circuit breaker: tasks failed to start." in result.message
    assert running_definition(ecs, cluster, "web") == first
    assert any("deployment failed: tasks failed to start" in e for e in result.events)
    assert any(e.startswith("stopped task ") for e in result.events)
    listed = ecs.list_task_definitions(familyPrefix=unique)["taskDefinitionArns"]
    assert result.task_definition in listed, "the failed revision is not deregistered"


def test_blue_green_is_done_only_after_its_bake_time(
    clients: Callable[[str], Any], cluster: str, unique: str
) -> None:
    ecs = clients("ecs")
    first = register_rich(ecs, f"{REPO}:sha-1", unique)
    ecs.create_service(
        cluster=cluster,
        serviceName="bg",
        taskDefinition=first,
        desiredCount=2,
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 4},
    )
    lines: list[str] = []
    ports = EcsPorts(BotoEcs(ecs), FakeLabels(), FakeAncestry())
    result = deploy_ecs(
        EcsTarget(cluster, "bg", wait=60.0), image("c"), "2" * 40, ports, say=lines.append
    )
    assert result.status == "completed", result.message
    steady = next(i for i, line in enumerate(lines) if "has reached a steady state" in line)
    completed = next(i for i, line in enumerate(lines) if "deployment completed" in line)
    assert steady < completed, "stable while baking was not taken for done"


def test_several_services_deploy_at_once(
    clients: Callable[[str], Any], cluster: str, unique: str
) -> None:
    ecs = clients("ecs")
    first = register_rich(ecs, f"{REPO}:sha-1", unique)
    names = ["a", "b", "c"]
    for name in names:
        ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=first, desiredCount=1)
    ports = EcsPorts(BotoEcs(ecs), FakeLabels(), FakeAncestry())
    jobs = [EcsJob(EcsTarget(cluster, n, wait=60.0), image("d"), "2" * 40, ports) for n in names]
    results = deploy_all(jobs, say=lambda _l: None)
    assert [r.status for r in results] == ["completed"] * 3
    assert [r.target for r in results] == [f"{cluster}/{n}" for n in names]
    assert len({r.task_definition for r in results}) == 3


def test_a_service_with_no_task_to_replace_completes_at_once(
    clients: Callable[[str], Any], cluster: str, unique: str
) -> None:
    ecs = clients("ecs")
    first = register_rich(ecs, f"{REPO}:sha-1", unique)
    ecs.create_service(cluster=cluster, serviceName="idle", taskDefinition=first, desiredCount=0)
    result = deploy(ecs, cluster, "idle", "e")
    assert result.status == "completed", result.message
    assert "desiredCount is 0" in result.message


def test_a_refused_codedeploy_start_deregisters_the_revision_it_registered(
    clients: Callable[[str], Any], cluster: str, unique: str
) -> None:
    ecs = clients("ecs")
    first = register_rich(ecs, f"{REPO}:sha-1", unique)
    ecs.create_service(
        cluster=cluster,
        serviceName="bg",
        taskDefinition=first,
        desiredCount=1,
        deploymentController={"type": "CODE_DEPLOY"},
        loadBalancers=[
            {
                "targetGroupArn": f"{TARGET_GROUPS}/{unique}/1",
                "containerName": "app",
                "containerPort": 8080,
            }
        ],
    )
    # No CodeDeploy application of that name: CodeDeploy refuses before any deployment.
    ports = EcsPorts(
        BotoEcs(ecs), FakeLabels(), FakeAncestry(), BotoCodeDeploy(clients("codedeploy"))
    )
    target = EcsTarget(cluster, "bg", wait=60.0, codedeploy_application=f"missing-{unique}")
    result = deploy_ecs(target, image("f"), "2" * 40, ports)
    assert result.status == "failed", result.message
    assert result.task_definition is not None and result.task_definition != first
    assert result.message.endswith("was deregistered"), result.message
    described = ecs.describe_task_definition(taskDefinition=result.task_definition)
    assert described["taskDefinition"]["status"] == "INACTIVE"
    (found,) = ecs.describe_services(cluster=cluster, services=["bg"])["services"]
    assert found["taskDefinition"] == first
