"""`pipeline run`: the stages in order, each handing its value to the next.

    prepare    input digests, builder, layer cache, credentials, repositories,
               what is published
    build      -> Built       (maybe started early: stages/early.py)
    push       -> Published
    scan       -> Scanned     (stages/scan.py: each pushed digest's scan result)
    gate       -> GateResult  (stages/gate.py: one decision for the release)
    promote    -> Promoted    (stages/promote.py: mutable tags, only when it passed)
    deploy     -> Deployed    (stages/deploy.py; then the CodePipeline files)

No stage writes the report: the runner records each value in a `Progress`,
and the composition root turns the `RunResult` into the report, also when a
stage raised.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from pipeline import log, preflight
from pipeline.adapters.ports import (
    Builder,
    BuildRequest,
    Registry,
    RepositoryAdmin,
    SecretSource,
)
from pipeline.plan import Plan
from pipeline.stages import build as build_stage
from pipeline.stages import cache as cache_stage
from pipeline.stages import publish, reuse
from pipeline.stages.early import EarlyBuild, Outcomes
from pipeline.stages.push import Pusher
from pipeline.stages.results import Built, Deployed, Promoted, Published, RunResult, Scanned

if TYPE_CHECKING:
    from pipeline.scan.gate import GateResult
    from pipeline.stages.from_report import Reported


@dataclass
class Services:
    """The adapters a run uses; built by app.py, faked in tests."""

    builder: Callable[[], Builder]
    pusher: Callable[[], Pusher]
    repositories: Callable[[], RepositoryAdmin | None]
    on_interrupt: Callable[[], None]
    #: get the push side ready (engine connection) in the background
    warm_up_push: Callable[[], None] = lambda: None
    #: the commit whose images a build takes its layer cache from first (HEAD's parent)
    parent_commit: Callable[[], str | None] = lambda: None
    #: after the push: the deploy stage (when selected) and the CodePipeline files; the
    #: last value says why the run halted before deploy (every target is then skipped)
    deploy: (
        Callable[[Published, GateResult | None, Registry, str | None], Deployed | None] | None
    ) = None
    #: the scan stage, given when the push began (a scan finished before is an earlier one's)
    scan: Callable[[Published, dt.datetime], Scanned] | None = None
    #: the gate (None: no scan stage ran, so every image is skipped)
    gate: Callable[[Published, Scanned | None], GateResult] | None = None
    promote: Callable[[Published, GateResult | None, Pusher], Promoted] | None = None
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)


class StageObserver(Protocol):
    """Told when each stage starts and ends: the terminal's live view, GitHub's
    `::group::` folds and the summary's time per stage all hang off this."""

    def stage_started(self, stage: str) -> None: ...

    def stage_finished(self, stage: str, seconds: float, ok: bool) -> None: ...


class _Quiet:
    def stage_started(self, stage: str) -> None:
        pass

    def stage_finished(self, stage: str, seconds: float, ok: bool) -> None:
        pass


class Progress:
    """The run's result so far: what the caller reports when a stage raises."""

    def __init__(
        self,
        observer: StageObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.result = RunResult()
        self.observer: StageObserver = observer if observer is not None else _Quiet()
        self._clock = clock

    def record(self, **values: object) -> RunResult:
        self.result = replace(self.result, **values)  # type: ignore[arg-type]
        return self.result

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[_Outcome]:
        """Time one stage and tell the observer; the body marks `outcome.ok = False`
        when its value says it failed (a raise counts as failed, too)."""
        outcome = _Outcome()
        self.observer.stage_started(name)
        start = self._clock()
        try:
            yield outcome
        except BaseException:
            outcome.ok = False
            raise
        finally:
            seconds = max(0.0, self._clock() - start)
            self.record(timings=(*self.result.timings, (name, seconds)))
            self.observer.stage_finished(name, seconds, outcome.ok)


@dataclass
class _Outcome:
    ok: bool = True


def check_supported(plan: Plan) -> None:
    """The preflight refusals `plan` makes too, for plans that did not come from app.make_plan."""
    preflight.refuse(plan)


def run(
    plan: Plan,
    services: Services,
    *,
    env: Mapping[str, str],
    jobs: int,
    dry_run: bool,
    warnings: list[str] | None = None,
    progress: Progress | None = None,
    reported: Reported | None = None,
) -> RunResult:
    """Every selected stage, in order; a failing stage stops the run.

    `reported`: a fan-out's final job (`--from-report`), which takes the runners'
    published images and gate decisions instead of building, pushing and scanning.
    """
    check_supported(plan)
    progress = progress if progress is not None else Progress()
    if reported is not None:
        return _run_reported(plan, services, reported, progress)
    # A missing secret is a usage error: found before anything is created.
    secrets = {i.name: build_stage.secrets_for(i, plan.root, env) for i in plan.images}
    early_pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="early-build")
    try:
        with progress.stage("prepare"):
            ready = _prepare(
                plan, services, secrets, jobs, dry_run, warnings or [], early_pool, env
            )

        with progress.stage("build") as outcome:
            built = _build(plan, services, ready, jobs, dry_run)
            progress.record(built=built)
            outcome.ok = built.ok
        if not built.ok:
            log.LOG.error("build failed; nothing was pushed")
            return progress.result

        if ready.pusher is not None:
            with progress.stage("push") as outcome:
                pushed_at = services.now()
                published = _push(plan, services, ready, jobs)
                progress.record(published=published)
                outcome.ok = not published.failed
            gated, halted = None, None
            if not published.failed:
                gated, halted = _release(
                    plan, services, published, ready.pusher, progress, pushed_at
                )
            go_on = not published.failed and halted is None
            # Also after a failed push or a halt: the stage then calls nothing,
            # and says for each target why it was skipped.
            _deploy(plan, services, published, gated, ready.pusher, halted, progress)
            if not go_on:
                return progress.result

        return progress.record(finished=True)
    except KeyboardInterrupt:
        services.on_interrupt()  # builds and pushes run in worker threads: stop them
        raise
    finally:
        # A called-off early build still tidies up (its local tags) before we go.
        early_pool.shutdown(wait=True)


def _release(
    plan: Plan,
    services: Services,
    published: Published,
    pusher: Pusher,
    progress: Progress,
    pushed_at: dt.datetime,
) -> tuple[GateResult | None, str | None]:
    """Scan, gate and promote; the gate's decision, and why the run halted (None: deploy).

    A scan error or a blocked gate stops the run before promote: no mutable tag
    moves, and deploy (still called) skips every target, saying why. So does a
    failed promote (which puts back the tags it moved).
    """
    scanned = None
    if "scan" in plan.stages and services.scan is not None:
        with progress.stage("scan") as outcome:
            scanned = services.scan(published, pushed_at)
            progress.record(scanned=scanned)
            outcome.ok = scanned.ok
        for failed in (o for o in scanned.outcomes if o.error is not None):
            log.LOG.error("scan of %s failed: %s", failed.name, failed.error)
    gated = None
    # With scanning off the gate still runs, to record each image as skipped.
    if ("gate" in plan.stages or "promote" in plan.stages) and services.gate is not None:
        with progress.stage("gate") as outcome:
            gated = services.gate(published, scanned)
            progress.record(gated=gated)
            outcome.ok = not gated.blocked
    if scanned is not None and not scanned.ok:
        log.LOG.error("the scan failed: no mutable tag moved, nothing deployed")
        names = ", ".join(o.name for o in scanned.outcomes if o.error is not None)
        return gated, f"the scan of {names} failed"
    if gated is not None and gated.blocked:
        log.LOG.error("the gate blocked this release: no mutable tag moved, nothing deployed")
        return gated, "the gate blocked this release"
    return gated, _promote(plan, services, published, gated, pusher, progress)


def _promote(
    plan: Plan,
    services: Services,
    published: Published,
    gated: GateResult | None,
    pusher: Pusher,
    progress: Progress,
) -> str | None:
    """The promote stage, when selected; why the run halts if it failed."""
    if "promote" not in plan.stages or services.promote is None:
        return None
    with progress.stage("promote") as outcome:
        promoted = services.promote(published, gated, pusher)
        progress.record(promoted=promoted)
        outcome.ok = promoted.ok
    if promoted.ok:
        return None
    halted = promote_failure(promoted)
    log.LOG.error("%s; nothing deployed", halted)
    return halted


def promote_failure(promoted: Promoted) -> str:
    """Why deploy is skipped after a failed promote (each image's error, by name)."""
    errors = "; ".join(f"{i.name}: {i.error}" for i in promoted.images if i.error is not None)
    return f"promote failed: {errors}"


def _deploy(
    plan: Plan,
    services: Services,
    published: Published,
    gated: GateResult | None,
    pusher: Pusher,
    halted: str | None,
    progress: Progress,
) -> None:
    """The deploy step: the deploy stage when selected, then CodePipeline's files."""
    if services.deploy is None:
        return
    # Without the deploy stage the step only writes CodePipeline's files.
    with progress.stage("deploy" if "deploy" in plan.stages else "outputs") as outcome:
        step = services.deploy(published, gated, pusher.registry, halted)
        progress.record(deployed=step)
        outcome.ok = step is None or step.ok


@dataclass
class _Ready:
    """What the run knows once prepared, and the build it may have started early."""

    digests: dict[str, str | None]
    requests: dict[str, BuildRequest]
    builder: Builder | None
    pusher: Pusher | None
    reusable: dict[str, reuse.Reusable]
    early: EarlyBuild | None


def _prepare(
    plan: Plan,
    services: Services,
    secrets: dict[str, tuple[SecretSource, ...]],
    jobs: int,
    dry_run: bool,
    warnings: list[str],
    early_pool: cf.ThreadPoolExecutor,
    env: Mapping[str, str],
) -> _Ready:
    # Hashing the build contexts and finding the builder come first, at once:
    # a build can start as soon as both are known. Credentials (boto3, the
    # network) and the registry's answers arrive while it runs, so a first
    # run costs hardly more than the raw commands on a machine with few cores.
    with cf.ThreadPoolExecutor(max_workers=3, thread_name_prefix="prepare") as prepare:
        digests_job = prepare.submit(reuse.input_digests, plan)
        builder_job = prepare.submit(services.builder) if "build" in plan.stages else None
        digests = digests_job.result()
        pusher_job = (
            prepare.submit(publish.signed_in, services.pusher) if "push" in plan.stages else None
        )
        requests = {
            i.name: build_stage.request_for(i, digests[i.name], secrets[i.name])
            for i in plan.images
        }
        builder = builder_job.result() if builder_job is not None else None
        if builder is not None:
            requests = cache_stage.prepare(plan, requests, env, builder.name, warnings)
        lookup = builder is not None and cache_stage.wants_lookup(plan)
        early = None
        # The layer cache's candidates are looked up in the registry, like what is
        # published; the build starts before either answer all the same (on a first run
        # there is no candidate), and is called off and built again when the registry
        # gives it one. Only a cache known without asking (another registry's) waits.
        if (
            builder
            and builder.stoppable
            and "push" in plan.stages
            and not dry_run
            and not cache_stage.taken_without_lookup(plan)
        ):
            services.warm_up_push()  # while the builder works in its own process
            early = EarlyBuild(
                early_pool,
                build_stage.build_all,
                plan.images,
                requests,
                builder,
                jobs=jobs,
                on_interrupt=services.on_interrupt,
            )
        reusable: dict[str, reuse.Reusable] = {}
        stale = False
        try:
            # Nothing is printed before the credentials are in: their ::add-mask::
            # (GitHub Actions) precedes every other line, as amazon-ecr-login's
            # users expect (the early build's output is held until later).
            pusher = pusher_job.result() if pusher_job is not None else None
            repos_job = (
                prepare.submit(publish.repositories, plan, services.repositories)
                if pusher
                else None
            )
            for line in plan.context.origin_lines():
                log.LOG.debug("%s", line)
            for warning in [*plan.warnings, *warnings]:
                log.LOG.warning("%s", warning)
            repos = repos_job.result() if repos_job is not None else publish.Repositories()
            if pusher is not None:
                reusable = publish.published(plan, pusher, digests, repos.created)
                # before anything is pushed: a tag promote could not move stops the run now
                publish.refuse_collisions(plan, pusher, reusable, repos.mutability)
            if lookup and not dry_run:
                registry = pusher.registry if pusher is not None else None
                requests = cache_stage.attach(plan, requests, registry, services.parent_commit())
        finally:
            if early is not None:
                # On failure nothing was decided: every early build is called off. So is
                # every one when the layer cache changed what to build (built again below).
                failed = sys.exc_info()[0] is not None
                stale = not failed and any(
                    early.requests[n] != requests[n] for n in requests if n not in reusable
                )
                early.decide(reusable, failed=failed or stale)
    if early is not None and stale:
        early.outcomes()  # the called-off builds tidy up (their local tags) first
        early = None
        # a builder does not start again what it was told to stop: a new one builds
        builder = services.builder()
    return _Ready(digests, requests, builder, pusher, reusable, early)


def _build(plan: Plan, services: Services, ready: _Ready, jobs: int, dry_run: bool) -> Built:
    outcomes: Outcomes = {}
    to_build = [i for i in plan.images if i.name not in ready.reusable]
    if ready.early is not None:
        # Also when every image was reused: its called-off builds end here, not after us.
        outcomes = ready.early.outcomes()
    elif "build" in plan.stages and to_build and ready.builder is not None:
        if ready.pusher is not None:
            services.warm_up_push()  # while the builder works in its own process
        log.LOG.info("builder: %s", ready.builder.description)
        outcomes = build_stage.build_all(
            to_build,
            ready.requests,
            ready.builder,
            workers=jobs,
            dry_run=dry_run,
            on_interrupt=services.on_interrupt,
        )
    return build_stage.built(plan.images, outcomes, ready.digests, ready.reusable, dry_run=dry_run)


def _push(plan: Plan, services: Services, ready: _Ready, jobs: int) -> Published:
    assert ready.pusher is not None
    return publish.push_all(
        plan, ready.pusher, ready.reusable, jobs=jobs, on_interrupt=services.on_interrupt
    )


def _run_reported(
    plan: Plan, services: Services, reported: Reported, progress: Progress
) -> RunResult:
    """The final job of a fan-out: promote and deploy what the runners' reports say.

    The gate's decision is one for the release: when any report's image was
    blocked, no mutable tag of any image moves and every deploy target is
    skipped, saying why.
    """
    published, gated = reported.published, reported.gated
    progress.record(published=published, gated=gated, reported_scans=reported.scans)
    try:
        with progress.stage("prepare"):
            for image, gate in zip(published.images, gated.images, strict=True):
                source = reported.sources.get(image.name, "?")
                log.LOG.info("%s: %s, gate %s (%s)", image.name, image.ref, gate.decision, source)
            # The registry's credentials: promote moves tags through this client,
            # and deploy reads the running images' labels through it.
            pusher = publish.signed_in(services.pusher)
        halted = None
        if gated.blocked:
            blocked = ", ".join(i.name for i in gated.images if i.decision == "block")
            log.LOG.error(
                "the gate blocked %s in the runners' reports: no mutable tag moved,"
                " nothing deployed",
                blocked,
            )
            halted = f"the gate blocked {blocked} in the runners' reports"
        else:
            halted = _promote(plan, services, published, gated, pusher, progress)
        _deploy(plan, services, published, gated, pusher, halted, progress)
        if halted is not None:
            return progress.result
        return progress.record(finished=True)
    except KeyboardInterrupt:
        services.on_interrupt()
        raise
