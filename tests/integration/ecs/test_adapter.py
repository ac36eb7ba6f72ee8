"""The ECS and CodeDeploy adapters against the sandbox's AWS emulation.

What is checked here does not need a rollout: the revision round trip (every
field the emulation returns for the running revision comes back for the new
one, only the image differs), UpdateService, MISSING, dry-run, the guard with
labels from the real registry and ancestry from real git, and CodeDeploy's
CreateDeployment. Following a rollout to its end needs the sandbox's ECS
rollout emulation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.adapters.ancestry import GitAncestry
from pipeline.adapters.ecs import BotoCodeDeploy, BotoEcs
from pipeline.adapters.ports import Credentials
from pipeline.adapters.registry_http import RegistryClient
from pipeline.ecs import taskdef
from pipeline.ecs.deploy import EcsPorts, EcsTarget, deploy_ecs
from pipeline.ecs.labels import RegistryLabels
from pipeline.ecs.ports import Timing
from pipeline.guard import CREATED, REVISION
from tests.integration.ecs.conftest import LabelledImages
from tests.unit.ecs.taskdefs import DESCRIBE_ONLY, rich
from tests.unit.gitrepo import GitRepo

DIGEST = "sha256:" + "d" * 64


def register_rich(ecs: Any, image: str, family: str) -> str:
    """Registers the production-like task definition with `image` in app and worker."""
    described = rich()
    task = {k: v for k, v in described["taskDefinition"].items() if k not in DESCRIBE_ONLY}
    task["family"] = family
    for container in task["containerDefinitions"]:
        if container["name"] in ("app", "worker"):
            container["image"] = image
    tags = [t for t in described["tags"] if not t["key"].startswith("aws:")]
    return str(
        ecs.register_task_definition(**task, tags=tags)["taskDefinition"]["taskDefinitionArn"]
    )


def test_a_revision_round_trips_every_field_but_the_image(
    clients: Callable[[str], Any], cluster: str, unique: str
) -> None:
    raw = clients("ecs")
    api = BotoEcs(raw)
    first = register_rich(raw, "127.0.0.1:1/shop/web:sha-1", unique)
    raw.create_service(cluster=cluster, serviceName="web", taskDefinition=first, desiredCount=1)

    service = api.describe_service(cluster, "web")
    assert service is not None
    assert service.task_definition is not None
    described = api.describe_task_definition(service.task_definition)
    assert described["tags"] == [
        {"key": "team", "value": "shop"},
        {"key": "cost-center", "value": ""},
    ]

    new_image = f"127.0.0.1:1/shop/web@{DIGEST}"
    revision = taskdef.new_revision(described, new_image, api.registrable_keys())
    assert revision.containers == ("app", "worker")
    second = api.register_task_definition(revision.request)
    again = api.describe_task_definition(second)

    def comparable(d: dict[str, Any]) -> dict[str, Any]:
        task = copy.deepcopy(d["taskDefinition"])
        for key in ("taskDefinitionArn", "revision", "registeredAt", "registeredBy"):
            task.pop(key, None)
        for container in task["containerDefinitions"]:
            if container["name"] in ("app", "worker"):
                container["image"] = "<image>"
        return {**task, "tags": d.get("tags")}

    assert comparable(again) == comparable(described)
    assert again["taskDefinition"]["containerDefinitions"][0]["image"] == new_image
    env = again["taskDefinition"]["containerDefinitions"][0]["environment"]
    assert {"name": "EMPTY_ON_PURPOSE", "value": ""} in env
    options = again["taskDefinition"]["containerDefinitions"][0]["logConfiguration"]["options"]
    assert (options["tag"], options["log_key"]) == ("", "k=v=w")

    updated = api.update_service(cluster, "web", second, force_new_deployment=False)
    assert updated.task_definition is not None and updated.task_definition.endswith(
        second.rsplit("/", 1)[-1]
    )


def test_a_missing_service_is_none(clients: Callable[[str], Any], cluster: str) -> None:
    assert BotoEcs(clients("ecs")).describe_service(cluster, "nope") is None


def test_dry_run_changes_nothing_in_the_emulation(
    clients: Callable[[str], Any], cluster: str, unique: str
) -> None:
    raw = clients("ecs")
    first = register_rich(raw, "127.0.0.1:1/shop/web:sha-1", unique)
    raw.create_service(cluster=cluster, serviceName="web", taskDefinition=first, desiredCount=1)
    said: list[str] = []
    api = BotoEcs(raw, dry_run=True, say=said.append)
    described = api.describe_task_definition(first)
    revision = taskdef.new_revision(
        described, f"127.0.0.1:1/shop/web@{DIGEST}", api.registrable_keys()
    )
    arn = api.register_task_definition(revision.request)
    api.update_service(cluster, "web", arn, force_new_deployment=False)
    assert raw.list_task_definitions(familyPrefix=unique)["taskDefinitionArns"] == [first]
    service = raw.describe_services(cluster=cluster, services=["web"])["services"][0]
    assert service["taskDefinition"].endswith(first.rsplit("/", 1)[-1])
    assert said[0].startswith(f"dry-run: would register a revision of task definition {unique}")


class _Creds:
    def __init__(self, host: str, auth: dict[str, str]) -> None:
        self.creds = Credentials(auth["username"], auth["password"], host)

    def get(self) -> Credentials:
        return self.creds

    def refresh(self) -> Credentials:
        return self.creds


def test_the_guard_refuses_an_older_commit_with_labels_from_the_registry_and_real_git(
    clients: Callable[[str], Any],
    cluster: str,
    unique: str,
    images: LabelledImages,
    auth: dict[str, str],
    sandbox: dict[str, str],
    tmp_path: Path,
) -> None:
    repo = GitRepo.init(tmp_path / "src")
    old_sha, new_sha = repo.commit(), repo.commit()
    host = sandbox["PIPELINE_REGISTRY_HOST"]
    repository = f"ecs/{unique}"
    clients("ecr").create_repository(repositoryName=repository)
    digests = {}
    for sha, when in ((old_sha, "2026-01-01T00:00:00Z"), (new_sha, "2026-01-02T00:00:00Z")):
        image = images.build_with({REVISION: sha, CREATED: when})
        errors, digest = images.push(image, repository, f"sha-{sha[:7]}")
        assert not errors and digest
        digests[sha] = digest
    running = f"{host}/{repository}@{digests[new_sha]}"
    raw = clients("ecs")
    first = register_rich(raw, running, unique)
    raw.create_service(cluster=cluster, serviceName="web", taskDefinition=first, desiredCount=1)
    labels = RegistryLabels(RegistryClient(host, _Creds(host, auth)), [host])
    ports = EcsPorts(BotoEcs(raw), labels, GitAncestry(repo.path))
    lines: list[str] = []

    older = deploy_ecs(
        EcsTarget(cluster, "web"),
        f"{host}/{repository}@{digests[old_sha]}",
        old_sha,
        ports,
        timing=Timing(sleep=lambda _s: None),
        say=lines.append,
    )
    assert older.status == "failed"
    assert f"commit {old_sha} is an ancestor of {new_sha}" in older.message
    assert raw.list_task_definitions(familyPrefix=unique)["taskDefinitionArns"] == [first]

    newer = repo.commit()
    dry = deploy_ecs(
        EcsTarget(cluster, "web"),
        f"{host}/{repository}@{digests[old_sha]}",
        newer,
        EcsPorts(BotoEcs(raw, dry_run=True), labels, GitAncestry(repo.path)),
        timing=Timing(sleep=lambda _s: None),
        dry_run=True,
        say=lines.append,
    )
    assert dry.status == "skipped", dry.message
    assert any("is not an ancestor" in n for n in dry.notes)
    assert f"{cluster}/web: app: {running} -> {host}/{repository}@{digests[old_sha]}" in lines
    assert raw.list_task_definitions(familyPrefix=unique)["taskDefinitionArns"] == [first]


def test_codedeploy_create_deployment_through_the_adapter(
    clients: Callable[[str], Any], unique: str
) -> None:
    raw = clients("codedeploy")
    raw.create_application(applicationName=unique, computePlatform="ECS")
    raw.create_deployment_group(
        applicationName=unique,
        deploymentGroupName="grp",
        serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
        deploymentStyle={
            "deploymentType": "BLUE_GREEN",
            "deploymentOption": "WITH_TRAFFIC_CONTROL",
        },
        blueGreenDeploymentConfiguration={
            "deploymentReadyOption": {
                "actionOnTimeout": "CONTINUE_DEPLOYMENT",
                "waitTimeInMinutes": 0,
            },
            "terminateBlueInstancesOnDeploymentSuccess": {
                "action": "TERMINATE",
                "terminationWaitTimeInMinutes": 5,
            },
        },
    )
    api = BotoCodeDeploy(raw)
    assert api.extra_wait_seconds(unique, "grp") == 300.0
    deployment = api.create_deployment(
        unique, "grp", '{"version": 0.0}\n', "0" * 64, "pipeline test"
    )
    assert api.get_deployment(deployment).status in ("Created", "Queued", "InProgress")
