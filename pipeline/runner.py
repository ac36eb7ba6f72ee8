"""`pipeline run`: the stages in order, each handing values to the next.

build -> push for now; scan, gate, promote and deploy join as they are
implemented, and until then a run that asks for them is refused up front
(exit 2) rather than pretending.
"""

from __future__ import annotations

import concurrent.futures as cf
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import log, parallel, preflight
from pipeline.adapters.ports import (
    Builder,
    BuildRequest,
    BuildResult,
    RepositoryAdmin,
    SecretSource,
)
from pipeline.plan import Plan
from pipeline.report.run_report import ImageReport, RunReport
from pipeline.stages import build as build_stage
from pipeline.stages import publish, reuse
from pipeline.stages.push import Pusher


@dataclass
class Services:
    """The adapters a run uses; built by app.py, faked in tests."""

    builder: Callable[[], Builder]
    pusher: Callable[[], Pusher]
    repositories: Callable[[], RepositoryAdmin | None]
    on_interrupt: Callable[[], None]
    #: get the push side ready (engine connection) in the background
    warm_up_push: Callable[[], None] = lambda: None


def check_supported(plan: Plan) -> None:
    """The preflight refusals `plan` makes too, for plans that did not come from app.make_plan."""
    preflight.refuse(plan)


def run(
    plan: Plan,
    services: Services,
    *,
    env: dict[str, str],
    jobs: int,
    dry_run: bool,
    report: RunReport,
    warnings: list[str] | None = None,
) -> RunReport:
    check_supported(plan)
    # A missing secret is a usage error: found before anything is created.
    secrets = {i.name: build_stage.secrets_for(i, plan.root, env) for i in plan.images}
    for image in plan.images:
        report.images.append(
            ImageReport(
                image.name,
                image.image,
                list(image.tags.immutable),
                pending_tags=list(image.tags.mutable),
            )
        )
    early_pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="early-build")
    try:
        ready = _prepare(plan, services, secrets, jobs, dry_run, report, warnings or [], early_pool)
        if not _build(plan, services, ready, jobs, dry_run, report):
            log.LOG.error("build failed; nothing was pushed")
            return report
        if ready.pusher is not None:
            publish.push_all(plan, ready.pusher, ready.found, report, jobs, services.on_interrupt)
        return report
    except KeyboardInterrupt:
        services.on_interrupt()  # builds and pushes run in worker threads: stop them
        raise
    finally:
        # A stopped early build still tidies up (its local tags) before we go.
        early_pool.shutdown(wait=True)


@dataclass
class _Ready:
    """What the run knows once it has prepared, and the build it may have started."""

    requests: dict[str, BuildRequest]
    builder: Builder | None
    pusher: Pusher | None
    found: dict[str, reuse.Reusable]
    early: cf.Future[dict[str, parallel.Outcome[BuildResult | None]]] | None


def _prepare(
    plan: Plan,
    services: Services,
    secrets: dict[str, tuple[SecretSource, ...]],
    jobs: int,
    dry_run: bool,
    report: RunReport,
    warnings: list[str],
    early_pool: cf.ThreadPoolExecutor,
) -> _Ready:
    # Hashing the build contexts and finding the builder come first, at once:
    # a build can start as soon as both are known. Credentials (boto3, the
    # network) and the registry's answers arrive while it runs, so a first
    # run costs hardly more than the raw commands on a machine with few cores.
    with cf.ThreadPoolExecutor(max_workers=3, thread_name_prefix="prepare") as prepare:
        digests_job = prepare.submit(reuse.input_digests, plan)
        building = "build" in plan.stages
        builder_job = prepare.submit(services.builder) if building else None
        digests = digests_job.result()
        pusher_job = (
            prepare.submit(publish.signed_in, services.pusher) if "push" in plan.stages else None
        )
        for image in plan.images:
            report.image(image.name).input_digest = digests[image.name]
        requests = {
            i.name: build_stage.request_for(i, digests[i.name], secrets[i.name])
            for i in plan.images
        }
        builder = builder_job.result() if builder_job is not None else None
        gates: dict[str, build_stage.Gate] = {}
        early = None
        if builder and builder.stoppable and "push" in plan.stages and not dry_run:
            # Build while the registry is asked whether that is needed at all;
            # output is held until the answer, and unneeded builds are stopped.
            gates = {i.name: build_stage.Gate() for i in plan.images}
            services.warm_up_push()  # while the builder works in its own process
            early = early_pool.submit(
                build_stage.run,
                plan.images,
                requests,
                builder,
                workers=jobs,
                on_interrupt=services.on_interrupt,
                gates=gates,
            )
        found: dict[str, reuse.Reusable] = {}
        try:
            # Nothing is printed before the credentials are in: their ::add-mask::
            # (GitHub Actions) precedes every other line, as amazon-ecr-login's
            # users expect (the early build's output is held until later).
            pusher = pusher_job.result() if pusher_job is not None else None
            repos_job = (
                prepare.submit(publish.ensure_repositories, plan, services.repositories)
                if pusher
                else None
            )
            for line in plan.context.origin_lines():
                log.LOG.debug("%s", line)
            for warning in [*plan.warnings, *warnings]:
                log.LOG.warning("%s", warning)
            created = repos_job.result() if repos_job is not None else set()
            if pusher is not None:
                found = publish.published(plan, pusher, digests, created)
        finally:
            if builder is not None and gates:
                # on failure, nothing was decided: every early build stops
                _decide(builder, gates, found, sys.exc_info()[0])
    return _Ready(requests, builder, pusher, found, early)


def _build(
    plan: Plan, services: Services, ready: _Ready, jobs: int, dry_run: bool, report: RunReport
) -> bool:
    """The build stage; False when a wanted build failed."""
    if ready.early is not None:
        # Also when every image was reused: its stopped builds end here, not after us.
        return _record_builds(report, ready.early.result(), ready.found, dry_run)
    to_build = [i for i in plan.images if i.name not in ready.found]
    if "build" not in plan.stages or not to_build or ready.builder is None:
        return True
    if ready.pusher is not None:
        services.warm_up_push()  # while the builder works in its own process
    log.LOG.info("builder: %s", ready.builder.description)
    outcomes = build_stage.run(
        to_build,
        ready.requests,
        ready.builder,
        workers=jobs,
        dry_run=dry_run,
        on_interrupt=services.on_interrupt,
    )
    return _record_builds(report, outcomes, ready.found, dry_run)


def _decide(
    builder: Builder,
    gates: dict[str, build_stage.Gate],
    found: Mapping[str, Any],
    failure: type[BaseException] | None,
) -> None:
    """Let the wanted early builds go on; stop the others (published, or the run failed)."""
    wanted = [] if failure is not None else [name for name in gates if name not in found]
    if wanted:
        log.LOG.info("builder: %s", builder.description)
    for name, gate in gates.items():
        if name in wanted:
            gate.open()
        else:
            gate.close()
            builder.stop(name)


def _record_builds(
    report: RunReport,
    outcomes: dict[str, parallel.Outcome[BuildResult | None]],
    found: dict[str, reuse.Reusable],
    dry_run: bool,
) -> bool:
    """Put build results in the report; False when a wanted build failed."""
    for name, outcome in outcomes.items():
        if name in found:
            continue  # reused: its early build, if any, was stopped
        entry = report.image(name)
        if outcome.ok and outcome.value is not None:
            entry.built = not dry_run
            entry.image_id = outcome.value.image_id or None
        else:
            entry.fail(outcome.error, outcome.blocked_by)
    return not any(i.error for i in report.images)


def write_reports(report: RunReport, paths: list[Path]) -> None:
    from pipeline.report.run_report import write

    for path in paths:
        write(path, report)
