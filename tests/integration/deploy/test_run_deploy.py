"""`pipeline run` with deploy targets, end to end against the sandbox.

Each test builds a small image from a git project, pushes it to the emulated
ECR and deploys it (by digest) to an ECS service, a Kubernetes Deployment
(through an emulated EKS cluster or a kubeconfig context) or a manifest in a
git repository; then it checks what the target runs, what the report says
and the exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.sandbox import Sandbox
from tests.integration.ecs.test_adapter import register_rich
from tests.integration.run.releases import Release, critical, script_scan
from tests.integration.run.support import GIT_ENV, Project, Result, run_cli
from tests.integration.sandbox.kube.support import Kubectl, deployment

STAGES: tuple[str, ...] = ()  # every stage: scan, gate and promote before the deploy


def deploying(release: Release, deploy: list[dict[str, Any]], **top: Any) -> Project:
    """The release's project (sha tags) with these deploy targets and more top-level keys."""
    return release.project(tags=[{"type": "sha"}], deploy=deploy, **top)


def project_for(
    make_project: Callable[[str], Project],
    prefix: str,
    deploy: list[dict[str, Any]],
    **top: Any,
) -> Project:
    """`deploying`, for the tests that hold the fixtures rather than a Release."""
    return deploying(Release(make_project, {}, prefix), deploy, **top)


def run(project: Project, env: dict[str, str], *args: str) -> Result:
    return run_cli(project, env, "run", *STAGES, *args, timeout=300)


def repository(env: dict[str, str], prefix: str) -> str:
    return f"{env['PIPELINE_REGISTRY_HOST']}/{prefix}/app"


@pytest.fixture
def release(make_project: Callable[[str], Project], env: dict[str, str], prefix: str) -> Release:
    return Release(make_project, env, prefix)


def pushed(result: Result) -> str:
    image = result.image("app")
    assert image["digest"], result.describe()
    return f"{image['image']}@{image['digest']}"


def deployments(result: Result) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = result.report["deployments"]
    return found


def ecs_service(ecs: Any, cluster: str, name: str, image: str, unique: str) -> str:
    first = register_rich(ecs, image, unique)
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=first, desiredCount=2)
    return first


def running_definition(ecs: Any, cluster: str, service: str) -> str:
    found = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
    (primary,) = [d for d in found["deployments"] if d["status"] == "PRIMARY"]
    return str(primary["taskDefinition"])


def ecs_target(cluster: str, service: str = "web", **more: Any) -> dict[str, Any]:
    return {"type": "ecs", "image": "app", "cluster": cluster, "service": service, **more}


def eks_target(namespace: str, deployment: str = "web", **where: str) -> dict[str, Any]:
    """A Deployment to roll out within 60s, in an EKS `cluster` or through a kube `context`."""
    return {
        "type": "eks",
        "image": "app",
        **where,
        "namespace": namespace,
        "deployment": deployment,
        "wait": "60s",
    }


@dataclass(frozen=True)
class Service:
    """The ECS service `web` of the test's cluster, first running the release's image :old."""

    ecs: Any
    cluster: str
    first: str  # its task definition before any deploy

    def running(self) -> str:
        """The task definition of its PRIMARY deployment."""
        return running_definition(self.ecs, self.cluster, "web")

    def image(self) -> str:
        """The image of the first container of what it runs."""
        found = self.ecs.describe_task_definition(taskDefinition=self.running())
        return str(found["taskDefinition"]["containerDefinitions"][0]["image"])


@pytest.fixture
def web(aws: Callable[[str], Any], cluster: str, unique: str, release: Release) -> Service:
    ecs = aws("ecs")
    return Service(ecs, cluster, ecs_service(ecs, cluster, "web", f"{release.image}:old", unique))


# --------------------------------------------------------------------------- ECS


def test_an_ecs_deploy_ends_on_the_pushed_digest_with_every_other_field_intact(
    release: Release, web: Service, cluster: str
) -> None:
    ecs, first, env = web.ecs, web.first, release.env
    project = deploying(
        release,
        [ecs_target(cluster, wait="60s")],
        outputs={"imagedefinitions": "out/imagedefinitions.json", "image_detail": "out/d.json"},
    )

    result = run(project, env)

    assert result.code == 0, result.describe()
    ref = pushed(result)
    (entry,) = deployments(result)
    assert {k: entry[k] for k in ("type", "target", "image", "status")} == {
        "type": "ecs",
        "target": f"{cluster}/web",
        "image": ref,
        "status": "completed",
    }
    assert entry["previous"] == f"{release.image}:old"
    now = web.running()
    assert now == entry["task_definition"] != first
    before = ecs.describe_task_definition(taskDefinition=first, include=["TAGS"])
    after = ecs.describe_task_definition(taskDefinition=now, include=["TAGS"])
    assert after["tags"] == before["tags"]
    for key, value in before["taskDefinition"].items():
        if key not in ("taskDefinitionArn", "revision", "registeredAt", "containerDefinitions"):
            assert after["taskDefinition"][key] == value, key
    for old, new in zip(
        before["taskDefinition"]["containerDefinitions"],
        after["taskDefinition"]["containerDefinitions"],
        strict=True,
    ):
        expected = {**old, "image": ref} if old["name"] in ("app", "worker") else old
        assert new == expected
    app = after["taskDefinition"]["containerDefinitions"][0]
    assert {"name": "EMPTY_ON_PURPOSE", "value": ""} in app["environment"]
    assert app["logConfiguration"]["options"]["log_key"] == "k=v=w"

    definitions = project.root / "out/imagedefinitions.json"
    assert json.loads(definitions.read_text()) == [
        {"name": "app", "imageUri": ref},
        {"name": "worker", "imageUri": ref},
    ]
    assert json.loads((project.root / "out/d.json").read_text()) == {"ImageURI": ref}
    written = definitions.read_bytes()

    again = run(project, env)
    assert again.code == 0, again.describe()
    assert deployments(again)[0]["status"] == "skipped"
    assert "already runs" in deployments(again)[0]["message"]
    assert web.running() == now
    assert definitions.read_bytes() == written


def test_a_failing_ecs_rollout_rolls_back_and_exits_1(
    release: Release, web: Service, cluster: str, sandbox_handle: Sandbox
) -> None:
    project = deploying(
        release,
        [ecs_target(cluster, wait="60s")],
        outputs={"imagedefinitions": "imagedefinitions.json"},
    )
    sandbox_handle.act("fail-next/ecs", {"cluster": cluster, "service": "web"})

    result = run(project, release.env)

    assert result.code == 1, result.describe()
    assert result.report["status"] == "failed"
    (entry,) = deployments(result)
    assert entry["status"] == "rolled_back", entry
    assert "circuit breaker" in entry["message"]
    assert any("stopped task" in e for e in entry["events"])
    assert web.running() == web.first
    assert not (project.root / "imagedefinitions.json").exists(), "a failed deploy writes none"


def test_an_older_commit_is_refused_while_a_newer_one_runs_and_force_deploys_it(
    release: Release, web: Service, cluster: str
) -> None:
    env = release.env
    project = deploying(release, [ecs_target(cluster, wait="60s")])
    older = project.head
    project.write("Dockerfile", f"FROM local/busybox:1\nRUN echo {uuid.uuid4().hex} > /n\n")
    newer = project.commit("newer")
    assert run(project, env).code == 0

    project.git("checkout", "-q", older)
    refused = run(project, env)

    assert refused.code == 1, refused.describe()
    (entry,) = deployments(refused)
    assert entry["status"] == "failed"
    assert f"commit {older} is an ancestor of {newer}" in entry["message"]
    assert "--force" in entry["message"]
    assert web.image() != pushed(refused)  # the newer commit's image runs on

    forced = run(project, env, "--force")

    assert forced.code == 0, forced.describe()
    assert deployments(forced)[0]["status"] == "completed"
    assert web.image() == pushed(forced)


def test_dry_run_prints_the_diff_and_changes_nothing(
    release: Release, web: Service, cluster: str, unique: str
) -> None:
    ecs, env = web.ecs, release.env
    project = deploying(release, [ecs_target(cluster)])
    assert run_cli(project, env, "run", "--only", "build,push").code == 0
    families = ecs.list_task_definitions(familyPrefix=unique)["taskDefinitionArns"]

    result = run(project, env, "--dry-run")

    assert result.code == 0, result.describe()
    ref = pushed(result)
    assert f"app: {release.image}:old -> {ref}" in result.output
    (entry,) = deployments(result)
    assert entry["status"] == "skipped" and entry["message"].startswith("dry-run: would")
    assert web.running() == web.first
    assert ecs.list_task_definitions(familyPrefix=unique)["taskDefinitionArns"] == families


# --------------------------------------------------------------------------- EKS


def test_an_eks_deploy_through_the_emulated_cluster_and_through_a_context(
    release: Release, kubectl: Kubectl, namespace: str, eks_cluster: str
) -> None:
    env, old = release.env, f"{release.image}:old"
    for name in ("web", "api"):
        kubectl.apply(deployment(name, image=old, replicas=2, namespace=namespace))
    context = yaml.safe_load(Path(env["KUBECONFIG"]).read_text())["current-context"]
    project = deploying(
        release,
        [
            eks_target(namespace, "web", cluster=eks_cluster),
            eks_target(namespace, "api", context=context),
        ],
    )
    before = kubectl.json("get", "deployment", "web", "-n", namespace)

    result = run(project, env)

    assert result.code == 0, result.describe()
    ref = pushed(result)
    assert [(d["target"], d["status"], d["image"], d["previous"]) for d in deployments(result)] == [
        (f"{eks_cluster}/{namespace}/web", "completed", ref, old),
        (f"{context}/{namespace}/api", "completed", ref, old),
    ]
    for name in ("web", "api"):
        now = kubectl.json("get", "deployment", name, "-n", namespace)
        pod = now["spec"]["template"]["spec"]
        assert [c["image"] for c in pod["containers"]] == [ref, "registry.example/envoy:1.30"]
        assert pod["initContainers"] == before["spec"]["template"]["spec"]["initContainers"]
        assert pod["containers"][0]["env"] == [{"name": "MODE", "value": "prod"}]
    kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=30s")


def test_an_eks_rollout_that_misses_its_deadline_rolls_back_and_exits_1(
    release: Release,
    kubectl: Kubectl,
    namespace: str,
    eks_cluster: str,
    sandbox_handle: Sandbox,
) -> None:
    env, old = release.env, f"{release.image}:old"
    kubectl.apply(deployment("web", image=old, replicas=2, namespace=namespace))
    project = deploying(release, [eks_target(namespace, "web", cluster=eks_cluster)])
    # armed once the Deployment's own first rollout is over: it is the deploy's that fails
    kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s")
    sandbox_handle.act("fail-next/eks", {"namespace": namespace, "deployment": "web"})

    result = run(project, env)

    assert result.code == 1, result.describe()
    (entry,) = deployments(result)
    assert entry["status"] == "rolled_back", entry
    assert "ProgressDeadlineExceeded" in entry["message"] or "deadline" in entry["message"]
    now = kubectl.json("get", "deployment", "web", "-n", namespace)
    assert now["spec"]["template"]["spec"]["containers"][0]["image"] == old


# --------------------------------------------------------------------------- manifests


MANIFEST = """\
# the web deployment; the pipeline keeps this comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # named for the service
spec:
  template:
    spec:
      containers:
        - name: app
          image: "{image}"   # written back by the pipeline
        - name: envoy
          image: registry.example/envoy:1.30
"""


def manifest_repo(root: Path, image: str) -> Path:
    """A bare repository (the remote) holding deploy/web.yaml on main."""
    bare = root / "manifests.git"
    work = root / "manifests-seed"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "deploy").mkdir()
    (work / "deploy/web.yaml").write_text(MANIFEST.format(image=image))
    for args in (["add", "-A"], ["commit", "-q", "-m", "seed"], ["push", "-q", str(bare), "main"]):
        subprocess.run(["git", *args], cwd=work, env={**os.environ, **GIT_ENV}, check=True)
    return bare


def remote_git(bare: Path, *args: str) -> str:
    """What `git ARGS` prints in the bare repository (the remote)."""
    command = ["git", "--git-dir", str(bare), *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def remote_file(bare: Path, path: str) -> str:
    return remote_git(bare, "show", f"main:{path}")


def commits(bare: Path) -> int:
    return int(remote_git(bare, "rev-list", "--count", "main"))


def manifest_target(bare: Path) -> dict[str, Any]:
    return {
        "type": "manifest",
        "image": "app",
        "repo": f"file://{bare}",
        "branch": "main",
        "files": ["deploy/web.yaml"],
        "commit_message": "deploy app {{tag}} {{digest}}",
    }


def test_a_manifest_write_back_keeps_comments_and_a_second_run_makes_no_commit(
    release: Release, tmp_path: Path
) -> None:
    env, old = release.env, f"{release.image}:old"
    bare = manifest_repo(tmp_path, old)
    project = deploying(release, [manifest_target(bare)])

    result = run(project, env)

    assert result.code == 0, result.describe()
    ref = pushed(result)
    (entry,) = deployments(result)
    assert (entry["type"], entry["status"]) == ("manifest", "completed"), entry
    expected = MANIFEST.format(image=old).replace(old, ref)
    assert remote_file(bare, "deploy/web.yaml") == expected
    assert commits(bare) == 2
    message = remote_git(bare, "log", "-1", "--format=%s", "main").strip()
    assert message == f"deploy app sha-{project.head[:7]} {ref.split('@')[1]}"

    again = run(project, env)

    assert again.code == 0, again.describe()
    assert deployments(again)[0]["status"] == "skipped"
    assert commits(bare) == 2


def test_ecs_eks_and_a_manifest_deploy_in_one_run(
    release: Release,
    web: Service,
    cluster: str,
    kubectl: Kubectl,
    namespace: str,
    eks_cluster: str,
    tmp_path: Path,
) -> None:
    old = f"{release.image}:old"
    kubectl.apply(deployment("web", image=old, replicas=2, namespace=namespace))
    bare = manifest_repo(tmp_path, old)
    project = deploying(
        release,
        [
            ecs_target(cluster, wait="60s"),
            eks_target(namespace, "web", cluster=eks_cluster),
            manifest_target(bare),
        ],
    )

    result = run(project, release.env)

    assert result.code == 0, result.describe()
    ref = pushed(result)
    assert [(d["type"], d["status"], d["image"]) for d in deployments(result)] == [
        ("ecs", "completed", ref),
        ("eks", "completed", ref),
        ("manifest", "completed", ref),
    ]
    assert web.image() == ref
    now = kubectl.json("get", "deployment", "web", "-n", namespace)
    assert now["spec"]["template"]["spec"]["containers"][0]["image"] == ref
    assert f'image: "{ref}"   # written back by the pipeline' in remote_file(
        bare, "deploy/web.yaml"
    )


# --------------------------------------------------------------------------- the gate


def test_a_blocked_gate_makes_no_deploy_call_and_the_service_keeps_its_image(
    release: Release,
    web: Service,
    cluster: str,
    aws: Callable[[str], Any],
    sandbox_handle: Sandbox,
    tmp_path: Path,
) -> None:
    env, repository = release.env, release.repository
    aws("ecr").create_repository(
        repositoryName=repository, imageScanningConfiguration={"scanOnPush": True}
    )
    script_scan(sandbox_handle, env, tmp_path, repository, findings=[critical()])
    project = deploying(
        release, [ecs_target(cluster, wait="60s")], scan={"thresholds": {"critical": 0}}
    )

    result = release.run(project)  # every stage

    assert result.code == 3, result.describe()
    assert web.running() == web.first
    (entry,) = deployments(result)
    assert entry["status"] == "skipped"
    assert entry["message"] == "not deployed: the gate blocked this release"
    assert result.report["status"] == "blocked"
