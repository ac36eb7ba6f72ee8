"""The deploy stage: each target of the plan moved to its image's pushed digest, all at once.

Takes what push published (`ImagePublished.ref`, `host/repo@sha256:...`,
never a tag looked up again) and the gate's decision, and returns `Deployed`:
one `Deployment` per target, in the plan's order. A run the runner halted (a
failed scan, a blocked gate, a failed promote: `halted` says which), a blocked
gate or a failed push means no deploy call at all: every target is `skipped`
and says why.

ECS, EKS and manifest targets run in parallel, each in its own thread; their
waits go through the injected `sleep`, which also ends them when the run is
interrupted. The stage sees only ports: the real adapters are built in
`pipeline/compose/deploy.py`.

Never backwards: ECS asks `pipeline.guard` itself; for Kubernetes and manifests
the stage hands `deploy_eks` / `deploy_manifest` a guard that compares the
revision labels of what runs (what the files point at) with the commit being
deployed (refused unless `force`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipeline import guard, log
from pipeline.config.schema import EcsTarget as EcsTargetConfig
from pipeline.config.schema import EksTarget, ManifestTarget
from pipeline.deployment import DeployError, Deployment
from pipeline.ecs import codepipeline
from pipeline.ecs.deploy import (
    EcsPorts,
    EcsTarget,
    arn_region,
    deploy_group,
    short_name,
)
from pipeline.ecs.ports import Timing
from pipeline.errors import PipelineError
from pipeline.gitops.deploy import deploy_manifest
from pipeline.gitops.ports import Repositories
from pipeline.gitops.target import mask_url
from pipeline.kube import deploy as kube_deploy
from pipeline.kube.ports import KubeConnector
from pipeline.plan import Plan
from pipeline.scan.gate import GateResult
from pipeline.stages.results import Deployed, ImagePublished, Published

Clock = Callable[[], float]  # monotonic seconds
Sleep = Callable[[float], None]
LineSink = Callable[[str], None]
Target = EcsTargetConfig | EksTarget | ManifestTarget

#: Targets deployed at once; more than a run normally has.
WORKERS = 16


def _info(line: str) -> None:
    log.LOG.info("%s", line)


@dataclass(frozen=True)
class DeployPorts:
    """What the deploy stage talks to; built by pipeline/compose/deploy.py, faked in tests."""

    #: the ECS (and CodeDeploy) ports for a region (None: the run's default region)
    ecs: Callable[[str | None], EcsPorts]
    kube: KubeConnector
    repositories: Repositories
    #: the guard's view of images (their labels, from the registry) and of git
    labels: guard.ImageLabels
    ancestry: guard.Ancestry
    say: LineSink = _info


class DeployInterrupted(DeployError):
    """The run was interrupted while a deploy was in flight."""


def target_name(target: Target) -> str:
    """How the report names a target before (or without) deploying it."""
    if isinstance(target, EcsTargetConfig):
        return f"{short_name(target.cluster)}/{short_name(target.service)}"
    if isinstance(target, EksTarget):
        return kube_deploy.target_name(target)
    return mask_url(f"{target.repo}:{target.branch}" if target.branch else target.repo)


def _skipped(target: Target, image: str, why: str) -> Deployment:
    return Deployment(target.type, target_name(target), image, None, "skipped", why)


def _not_deployable(
    published: Published, gated: GateResult | None, halted: str | None, dry_run: bool
) -> str | None:
    """Why nothing may be deployed at all; None when the run may go on."""
    if halted is not None:
        return f"not deployed: {halted}"
    if gated is not None and gated.blocked:
        return "not deployed: the gate blocked this release"
    # A dry run pushes nothing: an image not published before has no digest yet.
    failed = [i.name for i in published.images if i.error or not (i.digest or dry_run)]
    if failed:
        return f"not deployed: the push of {', '.join(failed)} did not succeed"
    return None


def run(
    plan: Plan,
    published: Published,
    gated: GateResult | None,
    ports: DeployPorts,
    *,
    force: bool,
    dry_run: bool,
    clock: Clock,
    sleep: Sleep,
    halted: str | None = None,
) -> Deployed:
    """Deploy every target of the plan whose image was published; results in the plan's order.

    `halted`: why the runner stopped the run before deploy; every target is then skipped.
    """
    targets: Sequence[Target] = plan.config.deploy
    if not targets:
        return Deployed()
    stop = threading.Event()

    def watched_sleep(seconds: float) -> None:
        # Ctrl-C is seen between polls: what a target already started goes on there.
        if stop.is_set():
            raise DeployInterrupted("interrupted; a rollout already started goes on")
        sleep(seconds)
        if stop.is_set():
            raise DeployInterrupted("interrupted; a rollout already started goes on")

    blocked = _not_deployable(published, gated, halted, dry_run)
    names = {i.name for i in published.images}
    turns = _turns(targets)
    jobs: list[Callable[[], Deployment]] = []
    # ECS entries naming one service (an app and its sidecar, say) deploy together
    services: dict[ServiceKey, list[tuple[EcsTargetConfig, ImagePublished]]] = {}
    grouped: dict[int, ServiceKey] = {}
    for target in targets:
        if target.image not in names:
            jobs.append(
                _const(_skipped(target, target.image, f"image {target.image} is not in this run"))
            )
            continue
        image = published.image(target.image)
        if blocked is not None:
            jobs.append(_const(_skipped(target, image.image, blocked)))
            continue
        if not image.digest:
            first = f"{image.image}:{image.tags[0]}" if image.tags else image.image
            why = f"dry-run: {first} is not pushed yet, so the digest to deploy is not known"
            jobs.append(_const(_skipped(target, first, why)))
            continue
        if isinstance(target, EcsTargetConfig):
            # every ECS service runs as one group, of one entry or several (see _batches)
            key = (_region(target), short_name(target.cluster), short_name(target.service))
            services.setdefault(key, []).append((target, image))
            grouped[len(jobs)] = key
            jobs.append(_with_its_service)
            continue
        job = _job(plan, target, image, ports, force, dry_run, clock, watched_sleep)
        if isinstance(target, ManifestTarget):
            job = _in_turn(turns[(target.repo, target.branch)], job)
        jobs.append(job)
    slots, runs = _batches(
        jobs,
        grouped,
        {
            key: _ecs_group(plan, members, ports, force, dry_run, clock, watched_sleep)
            for key, members in services.items()
        },
    )
    pool = ThreadPoolExecutor(
        max_workers=max(1, min(WORKERS, len(runs))), thread_name_prefix="deploy"
    )
    try:
        results: list[Deployment | None] = [None] * len(jobs)
        for where, done in zip(slots, pool.map(lambda run: run(), runs), strict=True):
            for index, result in zip(where, done, strict=True):
                results[index] = result
        return Deployed(tuple(r for r in results if r is not None))
    except KeyboardInterrupt:
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True)


def _turns(targets: Sequence[Target]) -> dict[tuple[str, str | None], threading.Lock]:
    """A lock per repository and branch written back to: write-backs into one (several
    images in one kustomization) take turns, each editing the tip the one before left."""
    turns: dict[tuple[str, str | None], threading.Lock] = {}
    for target in targets:
        if isinstance(target, ManifestTarget):
            turns.setdefault((target.repo, target.branch), threading.Lock())
    return turns


def _in_turn(lock: threading.Lock, job: Callable[[], Deployment]) -> Callable[[], Deployment]:
    def call() -> Deployment:
        with lock:
            return job()

    return call


def _with_its_service() -> Deployment:
    raise AssertionError("an ECS entry is deployed by its service's group, never alone")


def _const(value: Deployment) -> Callable[[], Deployment]:
    return lambda: value


ServiceKey = tuple[str | None, str, str]  # region, cluster, service


def _batches(
    jobs: Sequence[Callable[[], Deployment]],
    grouped: dict[int, ServiceKey],
    groups: dict[ServiceKey, Callable[[], tuple[Deployment, ...]]],
) -> tuple[list[list[int]], list[Callable[[], tuple[Deployment, ...]]]]:
    """The jobs to run, and the places of their results among the targets.

    A service of several entries is one job (one revision, one rollout); its
    results take the places of its entries.
    """
    slots: list[list[int]] = []
    runs: list[Callable[[], tuple[Deployment, ...]]] = []
    placed: dict[ServiceKey, int] = {}
    for index, job in enumerate(jobs):
        key = grouped.get(index)
        if key is not None and key in groups:
            if key in placed:
                slots[placed[key]].append(index)
                continue
            placed[key] = len(runs)
            slots.append([index])
            runs.append(groups[key])
            continue
        slots.append([index])
        runs.append(_single(job))
    return slots, runs


def _single(job: Callable[[], Deployment]) -> Callable[[], tuple[Deployment, ...]]:
    return lambda: (job(),)


def _region(target: EcsTargetConfig) -> str | None:
    # a cluster (or service) named by its ARN lives in the ARN's region
    return target.region or arn_region(target.cluster, target.service)


def _also(plan: Plan, image: ImagePublished) -> tuple[str, ...]:
    # pushed through a host override, the repository also goes by ECR's own host
    canonical = f"{plan.registry.canonical_host}/{image.repository}"
    return (canonical,) if canonical != image.image else ()


def _ecs_group(
    plan: Plan,
    members: Sequence[tuple[EcsTargetConfig, ImagePublished]],
    ports: DeployPorts,
    force: bool,
    dry_run: bool,
    clock: Clock,
    sleep: Sleep,
) -> Callable[[], tuple[Deployment, ...]]:
    """One ECS service and the entries naming it (an app and its sidecar, say): one
    revision, one rollout, a result each."""

    def call() -> tuple[Deployment, ...]:
        try:
            return deploy_group(
                [
                    (
                        EcsTarget.from_config(target, also_matches=_also(plan, image)),
                        image.ref,
                        image.revision or None,
                    )
                    for target, image in members
                ],
                ports.ecs(_region(members[0][0])),
                timing=Timing(now=clock, sleep=sleep),
                dry_run=dry_run,
                force=force,
                say=ports.say,
            )
        except PipelineError as err:
            return tuple(
                Deployment("ecs", target_name(target), image.ref, None, "failed", str(err))
                for target, image in members
            )

    return call


def _job(
    plan: Plan,
    target: EksTarget | ManifestTarget,
    image: ImagePublished,
    ports: DeployPorts,
    force: bool,
    dry_run: bool,
    clock: Clock,
    sleep: Sleep,
) -> Callable[[], Deployment]:
    revision = image.revision or None
    also = _also(plan, image)
    if isinstance(target, EksTarget):

        def never_backwards(running: kube_deploy.Running) -> None:
            verdict = guard.check(
                commit=revision,
                image=image.ref,
                running_images=list(running.images.values()),
                labels=ports.labels,
                ancestry=ports.ancestry,
                force=force,
            )
            if not verdict.allowed:
                raise DeployError(f"refused: {verdict.message}; pass --force to deploy it anyway")
            # No readable label (an image from elsewhere): the commit the pipeline last
            # deployed here, from the Deployment's annotation, still counts.
            noted = running.revision
            unlabelled = verdict.running is None and not force
            if (
                unlabelled
                and noted
                and revision
                and noted != revision
                and ports.ancestry.is_ancestor(revision, noted) is True
            ):
                raise DeployError(
                    f"refused: commit {revision} is an ancestor of {noted}, which the"
                    " pipeline last deployed here (decided by git); pass --force to"
                    " deploy it anyway"
                )
            ports.say(f"{running.target}: {verdict.message}")

        def eks() -> Deployment:
            return kube_deploy.deploy_eks(
                target,
                image.ref,
                ports.kube,
                clock,
                sleep,
                dry_run,
                revision=revision,
                guard=never_backwards,
                also_matches=also,
            )

        return _guarded(target, image, eks)

    def no_older_manifest(running: Sequence[str]) -> None:
        # what the files point at is what Argo CD / Flux run: the same guard as ECS and EKS
        verdict = guard.check(
            commit=revision,
            image=image.ref,
            running_images=list(running),
            labels=ports.labels,
            ancestry=ports.ancestry,
            force=force,
        )
        if not verdict.allowed:
            raise DeployError(f"refused: {verdict.message}; pass --force to deploy it anyway")
        ports.say(f"{target_name(target)}: {verdict.message}")

    def manifest() -> Deployment:
        assert image.digest is not None
        return deploy_manifest(
            target,
            image.image,
            image.digest,
            image.version,
            revision[:7] if revision else None,
            image.tags[0] if image.tags else None,
            ports.repositories,
            dry_run,
            also_matches=also,
            guard=no_older_manifest,
        )

    return _guarded(target, image, manifest)


def _guarded(
    target: Target, image: ImagePublished, deploy: Callable[[], Deployment]
) -> Callable[[], Deployment]:
    """A target's own failure is its result; only an interruption ends the stage."""

    def call() -> Deployment:
        try:
            return deploy()
        except PipelineError as err:
            return Deployment(target.type, target_name(target), image.ref, None, "failed", str(err))

    return call


# ----------------------------------------------------------------- CodePipeline


def codepipeline_files(plan: Plan, published: Published, deployed: Deployed | None) -> list[Path]:
    """Write outputs.imagedefinitions / outputs.image_detail; the paths written.

    Written once every image is published (after the deploy when there is
    one): the containers an ECS target updated are named, else those an ECS
    target's `containers:` names, else each image's own name. Byte-identical
    on a re-run with the same images.
    """
    outputs = plan.config.outputs
    if outputs.imagedefinitions is None and outputs.image_detail is None:
        return []
    images = [i for i in published.images if i.digest and not i.error]
    if not images or len(images) != len(published.images):
        return []
    containers: dict[str, list[str]] = {}
    for deployment in deployed.deployments if deployed else ():
        if deployment.type == "ecs" and deployment.containers:
            containers.setdefault(deployment.image, []).extend(deployment.containers)
    # Without a deploy (`--skip deploy`: CodePipeline's ECS action deploys), the containers
    # an ECS target names are the task definition's; the image's own name is a guess.
    configured: dict[str, list[str]] = {}
    for target in plan.config.deploy:
        if isinstance(target, EcsTargetConfig) and target.containers:
            names = [n.strip() for c in target.containers for n in c.split(",") if n.strip()]
            configured.setdefault(target.image, []).extend(names)
    entries: list[codepipeline.ImageDefinition] = []
    ecs_image: str | None = None
    for image in images:
        pinned = _pinned_names(image, containers)
        named = list(dict.fromkeys(configured.get(image.name, ())))
        names = pinned[1] or named or [image.name]
        if pinned[1] and ecs_image is None:
            ecs_image = pinned[0]
        entries.extend(codepipeline.ImageDefinition(name, image.ref) for name in names)
    written: list[Path] = []
    if outputs.imagedefinitions is not None:
        path = plan.root / outputs.imagedefinitions
        codepipeline.write_imagedefinitions(path, dict.fromkeys(entries))
        written.append(path)
    if outputs.image_detail is not None:
        path = plan.root / outputs.image_detail
        codepipeline.write_image_detail(path, ecs_image or images[0].ref)
        written.append(path)
    return written


def _pinned_names(image: ImagePublished, containers: dict[str, list[str]]) -> tuple[str, list[str]]:
    """The containers of ECS targets that now run `image` (ECS reports `name@digest`)."""
    for pinned, names in containers.items():
        if pinned.endswith(f"@{image.digest}"):
            return image.ref, list(dict.fromkeys(names))
    return image.ref, []
