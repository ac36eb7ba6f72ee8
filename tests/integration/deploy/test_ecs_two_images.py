"""Two of our images in one ECS task definition (an app and its nginx sidecar).

Two `deploy:` entries name one service, one per image: one `pipeline run`
registers one revision holding both digests and rolls it out once; a failed
rollout puts the service back and marks both entries rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from pipeline.sandbox import Sandbox
from tests.integration.run.support import Project, Result, ecr_config, run_cli
from tests.unit.ecs.taskdefs import DESCRIBE_ONLY, rich


def two_image_project(make_project: Callable[[str], Project], prefix: str, cluster: str) -> Project:
    project = make_project("project")
    nonce = uuid.uuid4().hex
    project.write("Dockerfile", f"FROM local/busybox:1\nRUN echo app-{nonce} > /nonce\n")
    project.write("nginx/Dockerfile", f"FROM local/busybox:1\nRUN echo nginx-{nonce} > /nonce\n")
    entry = {"type": "ecs", "cluster": cluster, "service": "web", "wait": "60s"}
    images = [
        {"name": "app", "repository": f"{prefix}/app"},
        {"name": "nginx", "repository": f"{prefix}/nginx", "context": "nginx"},
    ]
    deploy = [{**entry, "image": "app"}, {**entry, "image": "nginx"}]
    project.config(ecr_config(images, tags=[{"type": "sha"}], deploy=deploy))
    project.commit("first")
    return project


def register(ecs: Any, family: str, app: str, nginx: str) -> str:
    """The production-like task definition: app and worker run `app`, envoy runs `nginx`."""
    described = rich()
    task = {k: v for k, v in described["taskDefinition"].items() if k not in DESCRIBE_ONLY}
    task["family"] = family
    for container in task["containerDefinitions"]:
        if container["name"] in ("app", "worker"):
            container["image"] = app
        if container["name"] == "envoy":
            container["image"] = nginx
    tags = [t for t in described["tags"] if not t["key"].startswith("aws:")]
    found = ecs.register_task_definition(**task, tags=tags)
    return str(found["taskDefinition"]["taskDefinitionArn"])


def running(ecs: Any, cluster: str) -> str:
    found = ecs.describe_services(cluster=cluster, services=["web"])["services"][0]
    (primary,) = [d for d in found["deployments"] if d["status"] == "PRIMARY"]
    return str(primary["taskDefinition"])


@pytest.fixture
def service(
    aws: Callable[[str], Any], cluster: str, unique: str, env: dict[str, str], prefix: str
) -> tuple[Any, str, str]:
    ecs = aws("ecs")
    host = env["PIPELINE_REGISTRY_HOST"]
    first = register(ecs, unique, f"{host}/{prefix}/app:old", f"{host}/{prefix}/nginx:old")
    ecs.create_service(cluster=cluster, serviceName="web", taskDefinition=first, desiredCount=2)
    return ecs, first, host


def pinned(result: Result, name: str) -> str:
    image = result.image(name)
    assert image["digest"], result.describe()
    return f"{image['image']}@{image['digest']}"


def test_one_run_deploys_both_images_in_one_revision_and_one_rollout(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    cluster: str,
    unique: str,
    service: tuple[Any, str, str],
) -> None:
    ecs, first, host = service
    project = two_image_project(make_project, prefix, cluster)

    result = run_cli(project, env, "run", timeout=300)

    assert result.code == 0, result.describe()
    app, nginx = pinned(result, "app"), pinned(result, "nginx")
    arns = ecs.list_task_definitions(familyPrefix=unique)["taskDefinitionArns"]
    assert len(arns) == 2, f"one new revision for both images: {arns}"
    now = running(ecs, cluster)
    assert now != first and now in arns
    containers = ecs.describe_task_definition(taskDefinition=now)["taskDefinition"][
        "containerDefinitions"
    ]
    images = {c["name"]: c["image"] for c in containers}
    assert (images["app"], images["worker"], images["envoy"]) == (app, app, nginx)
    assert images["log_router"] == "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"
    entries = result.report["deployments"]
    assert [(e["type"], e["target"], e["status"]) for e in entries] == [
        ("ecs", f"{cluster}/web", "completed"),
        ("ecs", f"{cluster}/web", "completed"),
    ]
    assert [e["image"] for e in entries] == [app, nginx]
    assert [e["previous"] for e in entries] == [
        f"{host}/{prefix}/app:old",
        f"{host}/{prefix}/nginx:old",
    ]
    assert entries[0]["task_definition"] == entries[1]["task_definition"] == now

    again = run_cli(project, env, "run", timeout=300)

    assert again.code == 0, again.describe()
    assert [e["status"] for e in again.report["deployments"]] == ["skipped", "skipped"]
    assert len(ecs.list_task_definitions(familyPrefix=unique)["taskDefinitionArns"]) == 2


def test_a_failed_rollout_marks_both_entries_rolled_back_and_exits_1(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    cluster: str,
    service: tuple[Any, str, str],
    sandbox_handle: Sandbox,
) -> None:
    ecs, first, _ = service
    project = two_image_project(make_project, prefix, cluster)
    sandbox_handle.act("fail-next/ecs", {"cluster": cluster, "service": "web"})

    result = run_cli(project, env, "run", timeout=300)

    assert result.code == 1, result.describe()
    entries = result.report["deployments"]
    assert [e["status"] for e in entries] == ["rolled_back", "rolled_back"], entries
    assert entries[0]["message"] == entries[1]["message"]
    assert running(ecs, cluster) == first
