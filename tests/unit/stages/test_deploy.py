"""The deploy stage against fakes of its ports: when it calls nothing, parallelism, the guard."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from pydantic import TypeAdapter

from pipeline.config.schema import DeployTarget, Outputs
from pipeline.deployment import DeployError, Deployment
from pipeline.ecs.deploy import EcsPorts
from pipeline.guard import REVISION
from pipeline.kube.ports import Cluster, KubeApi, KubeObject
from pipeline.plan import Plan
from pipeline.scan.gate import GateResult
from pipeline.stages import deploy
from pipeline.stages.results import Deployed, ImagePublished, Published

DIGEST = "sha256:" + "a" * 64
NEW, OLD = "1" * 40, "0" * 40
IMAGE = "reg.example/team/app"
TARGETS = [
    {"type": "ecs", "image": "app", "cluster": "c", "service": "s"},
    {"type": "eks", "image": "app", "context": "k", "deployment": "web"},
    {"type": "manifest", "image": "app", "files": ["deploy/web.yaml"]},
]


def plan(tmp_path: Path, targets: list[dict[str, Any]], **outputs: str) -> Plan:
    parsed = tuple(TypeAdapter(DeployTarget).validate_python(t) for t in targets)
    config = SimpleNamespace(deploy=parsed, outputs=Outputs(**outputs))
    registry = SimpleNamespace(canonical_host="reg.example", host="reg.example")
    return cast(Plan, SimpleNamespace(config=config, registry=registry, root=tmp_path))


def published(**changes: Any) -> Published:
    fields: dict[str, Any] = {
        "name": "app",
        "image": IMAGE,
        "repository": "team/app",
        "digest": DIGEST,
        "tags": ("sha-1111111",),
        "pushed": True,
        "revision": NEW,
        **changes,
    }
    return Published((ImagePublished(**fields),))


class Unreachable:
    """Every port: records the call, waits for the others (when asked to), then fails."""

    def __init__(self, barrier: threading.Barrier | None = None) -> None:
        self.calls: list[str] = []
        self.barrier = barrier

    def _call(self, what: str) -> None:
        self.calls.append(what)
        if self.barrier is not None:
            self.barrier.wait(timeout=5)  # BrokenBarrierError unless all are in flight at once
        raise DeployError(f"{what}: unreachable")

    def ecs(self, region: str | None) -> EcsPorts:
        self._call("ecs")
        raise AssertionError("unreachable")

    def connect(self, cluster: Cluster) -> KubeApi:
        self._call("kube")
        raise AssertionError("unreachable")

    def open(self, repo: str, branch: str | None, push: bool) -> Any:
        self._call("manifest")

    def labels(self, image: str) -> Mapping[str, str] | None:
        self.calls.append(f"labels {image}")
        return {REVISION: NEW} if image.endswith(":new") else None

    def is_ancestor(self, ancestor: str, descendant: str) -> bool | None:
        return (ancestor, descendant) == (OLD, NEW)


def ports(fake: Unreachable) -> deploy.DeployPorts:
    return deploy.DeployPorts(
        ecs=fake.ecs,
        kube=fake,
        repositories=fake,
        labels=fake,
        ancestry=fake,
        say=lambda _line: None,
    )


def run(
    p: Plan,
    pub: Published,
    fake: Unreachable,
    *,
    gated: GateResult | None = None,
    halted: str | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> Deployed:
    return deploy.run(
        p,
        pub,
        gated,
        ports(fake),
        force=force,
        dry_run=dry_run,
        halted=halted,
        clock=lambda: 0.0,
        sleep=lambda _s: None,
    )


def test_no_targets_no_deployments(tmp_path: Path) -> None:
    fake = Unreachable()
    assert run(plan(tmp_path, []), published(), fake) == Deployed()
    assert fake.calls == []


BLOCKED = GateResult("block", ())
PROMOTE_FAILED = "promote failed: app: denied: tag not allowed"


@pytest.mark.parametrize(
    ("pub", "gated", "halted", "why"),
    [
        (published(), BLOCKED, None, "not deployed: the gate blocked this release"),
        (
            published(),
            BLOCKED,
            "the scan of app failed",
            "not deployed: the scan of app failed",
        ),
        (published(), None, PROMOTE_FAILED, f"not deployed: {PROMOTE_FAILED}"),
        (
            published(),
            GateResult("pass", ()),
            "the gate blocked this release",
            "not deployed: the gate blocked this release",
        ),
        (
            published(error="push failed", digest=None),
            None,
            None,
            "not deployed: the push of app did not succeed",
        ),
        (published(digest=None), None, None, "not deployed: the push of app did not succeed"),
    ],
    ids=["gate blocked", "scan failed", "promote failed", "halted", "push failed", "no digest"],
)
def test_a_halted_run_or_a_failed_push_makes_no_deploy_call_and_says_why(
    tmp_path: Path, pub: Published, gated: GateResult | None, halted: str | None, why: str
) -> None:
    fake = Unreachable()
    result = run(plan(tmp_path, TARGETS), pub, fake, gated=gated, halted=halted)
    assert fake.calls == []
    assert [d.status for d in result.deployments] == ["skipped"] * 3
    assert [d.message for d in result.deployments] == [why] * 3
    assert [d.type for d in result.deployments] == ["ecs", "eks", "manifest"]


def test_a_dry_run_before_the_first_push_says_the_digest_is_unknown(tmp_path: Path) -> None:
    fake = Unreachable()
    result = run(plan(tmp_path, TARGETS), published(digest=None), fake, dry_run=True)
    assert fake.calls == []
    assert all("not pushed yet" in d.message for d in result.deployments)
    assert result.deployments[0].image == f"{IMAGE}:sha-1111111"


def test_ecs_eks_and_manifest_targets_deploy_at_the_same_time(tmp_path: Path) -> None:
    fake = Unreachable(threading.Barrier(3))
    result = run(plan(tmp_path, TARGETS), published(), fake)
    assert sorted(fake.calls) == ["ecs", "kube", "manifest"]
    # each reached the barrier while the other two were in flight, then failed on its own
    assert [d.status for d in result.deployments] == ["failed"] * 3
    assert [d.message for d in result.deployments] == [
        "ecs: unreachable",
        "kube: unreachable",
        "manifest: unreachable",
    ]


def test_a_target_whose_image_is_not_in_the_run_is_skipped(tmp_path: Path) -> None:
    fake = Unreachable()
    targets = [{"type": "ecs", "image": "other", "cluster": "c", "service": "s"}]
    (only,) = run(plan(tmp_path, targets), published(), fake).deployments
    assert (only.status, only.message) == ("skipped", "image other is not in this run")
    assert fake.calls == []


class Cluster1:
    """A Kubernetes API with one Deployment running `running`."""

    def __init__(self, running: str, annotation: str | None = None) -> None:
        self.running = running
        self.annotations = {"pipeline.revision": annotation} if annotation else {}
        self.patches: list[KubeObject] = []

    def connect(self, cluster: Cluster) -> KubeApi:
        return cast(KubeApi, self)

    def get_deployment(self, namespace: str, name: str) -> KubeObject:
        return {
            "metadata": {"generation": 1, "annotations": self.annotations},
            "spec": {
                "replicas": 1,
                "template": {"spec": {"containers": [{"name": "app", "image": self.running}]}},
            },
            "status": {
                "observedGeneration": 1,
                "replicas": 1,
                "updatedReplicas": 1,
                "availableReplicas": 1,
            },
        }

    def patch_deployment(self, namespace: str, name: str, patch: KubeObject) -> KubeObject:
        self.patches.append(patch)
        return self.get_deployment(namespace, name)

    def close(self) -> None:
        pass


def test_eks_refuses_an_older_commit_than_the_running_image_unless_forced(tmp_path: Path) -> None:
    kube = Cluster1(f"{IMAGE}:new")  # its revision label is NEW
    fake = Unreachable()
    p = plan(tmp_path, [TARGETS[1]])
    ports_ = deploy.DeployPorts(
        ecs=fake.ecs,
        kube=kube,
        repositories=fake,
        labels=fake,
        ancestry=fake,
        say=lambda _l: None,
    )
    args: dict[str, Any] = {"dry_run": False, "clock": lambda: 0.0, "sleep": lambda _s: None}
    (refused,) = deploy.run(
        p, published(revision=OLD), None, ports_, force=False, **args
    ).deployments
    assert refused.status == "failed"
    assert f"commit {OLD} is an ancestor of {NEW}" in refused.message
    assert "--force" in refused.message
    assert kube.patches == []

    (forced,) = deploy.run(p, published(revision=OLD), None, ports_, force=True, **args).deployments
    assert forced.status == "completed", forced.message
    assert len(kube.patches) == 1


def test_codepipeline_files_name_the_ecs_containers_and_are_stable(tmp_path: Path) -> None:
    p = plan(tmp_path, TARGETS, imagedefinitions="out/i.json", image_detail="out/d.json")
    pub = published()
    ecs = Deployment(
        "ecs", "c/s", f"{IMAGE}@{DIGEST}", None, "completed", containers=("web", "log")
    )
    written = deploy.codepipeline_files(p, pub, Deployed((ecs,)))
    assert written == [tmp_path / "out/i.json", tmp_path / "out/d.json"]
    ref = f"{IMAGE}@{DIGEST}"
    first = (tmp_path / "out/i.json").read_bytes()
    assert json.loads(first) == [{"name": "web", "imageUri": ref}, {"name": "log", "imageUri": ref}]
    assert json.loads((tmp_path / "out/d.json").read_text()) == {"ImageURI": ref}
    deploy.codepipeline_files(p, pub, Deployed((ecs,)))
    assert (tmp_path / "out/i.json").read_bytes() == first


def test_without_an_ecs_target_the_image_name_is_the_container(tmp_path: Path) -> None:
    p = plan(tmp_path, [], imagedefinitions="i.json")
    deploy.codepipeline_files(p, published(), None)
    assert json.loads((tmp_path / "i.json").read_text()) == [
        {"name": "app", "imageUri": f"{IMAGE}@{DIGEST}"}
    ]


def test_no_codepipeline_file_while_an_image_is_not_published(tmp_path: Path) -> None:
    p = plan(tmp_path, [], imagedefinitions="i.json")
    assert deploy.codepipeline_files(p, published(digest=None), None) == []
    assert not (tmp_path / "i.json").exists()


def test_eks_without_a_readable_label_goes_by_the_commit_the_pipeline_deployed(
    tmp_path: Path,
) -> None:
    kube = Cluster1("elsewhere.example/app:1", annotation=NEW)
    fake = Unreachable()
    p = plan(tmp_path, [TARGETS[1]])
    ports_ = deploy.DeployPorts(
        ecs=fake.ecs, kube=kube, repositories=fake, labels=fake, ancestry=fake
    )
    targets = [{**TARGETS[1], "containers": ["app"]}]
    p = plan(tmp_path, targets)
    args: dict[str, Any] = {"dry_run": False, "clock": lambda: 0.0, "sleep": lambda _s: None}
    (refused,) = deploy.run(
        p, published(revision=OLD), None, ports_, force=False, **args
    ).deployments
    assert refused.status == "failed"
    assert (
        f"commit {OLD} is an ancestor of {NEW}, which the pipeline last deployed" in refused.message
    )
    assert kube.patches == []


def test_an_ecs_cluster_given_as_an_arn_is_named_and_reached_in_its_own_region(
    tmp_path: Path,
) -> None:
    regions: list[str | None] = []
    fake = Unreachable()

    def ecs(region: str | None) -> EcsPorts:
        regions.append(region)
        raise DeployError("ecs: unreachable")

    targets = [
        {
            "type": "ecs",
            "image": "app",
            "cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
            "service": "arn:aws:ecs:eu-west-1:123456789012:service/prod/web",
        },
        {
            "type": "ecs",
            "image": "app",
            "cluster": "arn:aws:ecs:eu-west-1:123456789012:cluster/prod",
            "service": "api",
            "region": "us-east-2",  # said outright: that wins
        },
    ]
    p = plan(tmp_path, targets)
    ports_ = deploy.DeployPorts(
        ecs=ecs, kube=fake, repositories=fake, labels=fake, ancestry=fake, say=lambda _l: None
    )
    args: dict[str, Any] = {"dry_run": False, "clock": lambda: 0.0, "sleep": lambda _s: None}
    web, api = deploy.run(p, published(), None, ports_, force=False, **args).deployments
    assert sorted(r or "" for r in regions) == ["eu-west-1", "us-east-2"]
    assert (web.target, api.target) == ("prod/web", "prod/api")
    assert [deploy.target_name(t) for t in p.config.deploy] == ["prod/web", "prod/api"]


def test_codepipeline_files_without_a_deploy_name_the_containers_an_ecs_target_names(
    tmp_path: Path,
) -> None:
    # `--skip deploy`, CodePipeline's ECS action deploys: the file must name the task
    # definition's containers, which the ECS target says; the image's name is only a guess
    targets = [
        {
            "type": "ecs",
            "image": "app",
            "cluster": "c",
            "service": "s",
            "containers": ["web", "log"],
        }
    ]
    p = plan(tmp_path, targets, imagedefinitions="i.json")
    deploy.codepipeline_files(p, published(), None)
    ref = f"{IMAGE}@{DIGEST}"
    assert json.loads((tmp_path / "i.json").read_text()) == [
        {"name": "web", "imageUri": ref},
        {"name": "log", "imageUri": ref},
    ]


def test_eks_and_manifest_targets_know_the_repository_by_ecrs_own_host_too(
    tmp_path: Path,
) -> None:
    # pushed through a host override, as ECS targets already allow: a Deployment or a
    # manifest naming ECR's own host runs this repository
    canonical = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    kube = Cluster1(f"{canonical}/team/app:old")
    fake = Unreachable()
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy/web.yaml").write_text(f"image: {canonical}/team/app:old\n")

    class Local:
        def open(self, repo: str, branch: str | None, push: bool) -> Any:
            ws = SimpleNamespace(base=tmp_path, top=tmp_path, label="local:main")
            ws.commit = lambda paths, message: "c" * 40
            ws.push = lambda: True
            ws.close = lambda: None
            return ws

    p = plan(tmp_path, TARGETS[1:])
    p.registry.canonical_host = canonical  # type: ignore[misc]
    ports_ = deploy.DeployPorts(
        ecs=fake.ecs, kube=kube, repositories=Local(), labels=fake, ancestry=fake
    )
    args: dict[str, Any] = {"dry_run": False, "clock": lambda: 0.0, "sleep": lambda _s: None}
    eks, manifest = deploy.run(p, published(), None, ports_, force=False, **args).deployments
    assert (eks.status, manifest.status) == ("completed", "completed"), (eks, manifest)
    assert kube.patches and kube.running == f"{canonical}/team/app:old"  # patched, not re-read
    assert (tmp_path / "deploy/web.yaml").read_text() == f"image: {IMAGE}@{DIGEST}\n"


def test_a_manifest_pointing_at_a_newer_commit_is_refused_unless_forced(tmp_path: Path) -> None:
    fake = Unreachable()  # labels: `...:new` carries commit NEW; OLD is its ancestor
    (tmp_path / "deploy").mkdir()
    manifest = tmp_path / "deploy/web.yaml"
    manifest.write_text(f"image: {IMAGE}:new\n")

    class Local:
        def open(self, repo: str, branch: str | None, push: bool) -> Any:
            ws = SimpleNamespace(base=tmp_path, top=tmp_path, label="local:main")
            ws.commit = lambda paths, message: "c" * 40
            ws.push = lambda: True
            ws.close = lambda: None
            return ws

    p = plan(tmp_path, [TARGETS[2]])
    ports_ = deploy.DeployPorts(
        ecs=fake.ecs, kube=fake, repositories=Local(), labels=fake, ancestry=fake
    )
    args: dict[str, Any] = {"dry_run": False, "clock": lambda: 0.0, "sleep": lambda _s: None}
    (refused,) = deploy.run(
        p, published(revision=OLD), None, ports_, force=False, **args
    ).deployments
    assert refused.status == "failed"
    assert f"commit {OLD} is an ancestor of {NEW}" in refused.message
    assert "--force" in refused.message
    assert manifest.read_text() == f"image: {IMAGE}:new\n"

    (forced,) = deploy.run(p, published(revision=OLD), None, ports_, force=True, **args).deployments
    assert forced.status == "completed", forced.message
    assert manifest.read_text() == f"image: {IMAGE}@{DIGEST}\n"


def test_write_backs_into_one_repository_take_turns(tmp_path: Path) -> None:
    # two images into one kustomization with `push: false`: a second worktree made
    # before the first commit landed could not fast-forward the branch
    (tmp_path / "deploy").mkdir()
    kustomization = tmp_path / "deploy/kustomization.yaml"
    kustomization.write_text(f"images:\n  - name: {IMAGE}\n  - name: {IMAGE}2\n")
    inside = threading.Semaphore(1)
    overlaps: list[str] = []
    fake = Unreachable()

    class Local:
        def open(self, repo: str, branch: str | None, push: bool) -> Any:
            if not inside.acquire(blocking=False):
                overlaps.append(repo)
                inside.acquire()
            ws = SimpleNamespace(base=tmp_path, top=tmp_path, label="local:main")
            ws.commit = lambda paths, message: "c" * 40
            ws.publish_locally = lambda: threading.Event().wait(0.2)
            ws.close = inside.release
            return ws

    targets = [
        {"type": "manifest", "image": name, "files": ["deploy/kustomization.yaml"], "push": False}
        for name in ("app", "app2")
    ]
    two = Published(
        (
            *published().images,
            *published(name="app2", image=f"{IMAGE}2", repository="team/app2").images,
        )
    )
    ports_ = deploy.DeployPorts(
        ecs=fake.ecs, kube=fake, repositories=Local(), labels=fake, ancestry=fake
    )
    args: dict[str, Any] = {"dry_run": False, "clock": lambda: 0.0, "sleep": lambda _s: None}
    results = deploy.run(plan(tmp_path, targets), two, None, ports_, force=False, **args)
    assert [d.status for d in results.deployments] == ["completed", "completed"]
    assert overlaps == []
    pinned = f"    digest: {DIGEST}\n"
    assert (
        kustomization.read_text()
        == f"images:\n  - name: {IMAGE}\n{pinned}  - name: {IMAGE}2\n{pinned}"
    )


def test_ecs_entries_of_one_service_are_one_deploy_with_a_result_in_each_place(
    tmp_path: Path,
) -> None:
    fake = Unreachable()
    sidecar = ImagePublished(
        name="nginx",
        image="reg.example/team/nginx",
        repository="team/nginx",
        digest="sha256:" + "b" * 64,
        tags=("sha-1111111",),
        pushed=True,
        revision=NEW,
    )
    pub = Published((*published().images, sidecar))
    targets = [
        {"type": "ecs", "image": "app", "cluster": "prod", "service": "web"},
        {"type": "ecs", "image": "app", "cluster": "prod", "service": "api"},
        {
            "type": "ecs",
            "image": "nginx",
            "cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/prod",
            "service": "web",
            "region": "us-east-1",
        },
        {"type": "ecs", "image": "nginx", "cluster": "prod", "service": "api"},
    ]
    for t in targets[:2] + targets[3:]:
        t["region"] = "us-east-1"
    web_app, api_app, web_nginx, api_nginx = run(plan(tmp_path, targets), pub, fake).deployments
    assert fake.calls == ["ecs", "ecs"], "one deploy per service, not per entry"
    assert [d.target for d in (web_app, api_app, web_nginx, api_nginx)] == [
        "prod/web",
        "prod/api",
        "prod/web",
        "prod/api",
    ]
    assert web_app.image.startswith(IMAGE) and web_nginx.image.startswith("reg.example/team/nginx")
    assert {d.status for d in (web_app, web_nginx, api_app, api_nginx)} == {"failed"}


@pytest.mark.parametrize(
    ("grouped", "groups", "slots"),
    [
        ({}, set(), [[0], [1], [2]]),
        ({0: "a", 2: "a"}, {"a"}, [[0, 2], [1]]),
        ({0: "a", 1: "b", 2: "a"}, {"a"}, [[0, 2], [1]]),
        ({1: "b", 2: "a", 0: "b"}, {"a", "b"}, [[0, 1], [2]]),
    ],
)
def test_batches_put_each_result_of_a_shared_service_in_its_entrys_place(
    grouped: dict[int, str], groups: set[str], slots: list[list[int]]
) -> None:
    jobs = [lambda: Deployment("ecs", "x", "i", None, "skipped")] * 3
    keys = {i: ("r", k, k) for i, k in grouped.items()}
    made = {("r", k, k): (lambda: ()) for k in groups}
    found, runs = deploy._batches(jobs, keys, made)  # type: ignore[arg-type]
    assert found == slots
    assert len(runs) == len(slots)
