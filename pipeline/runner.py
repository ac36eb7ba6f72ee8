"""`pipeline run`: the stages in order, each handing values to the next.

build -> push for now; scan, gate, promote and deploy join as they are
implemented, and until then a run that asks for them is refused up front
(exit 2) rather than pretending.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline import inputs, log
from pipeline.adapters.ports import Builder, BuildRequest, RepositoryAdmin
from pipeline.errors import PipelineError, StageError, UsageError
from pipeline.plan import ImagePlan, Plan
from pipeline.report.run_report import ImageReport, RunReport
from pipeline.stages import build as build_stage
from pipeline.stages import reuse
from pipeline.stages.push import Pusher

AVAILABLE = ("build", "push")
_VERSION_LABEL = "org.opencontainers.image.version"


@dataclass
class Services:
    """The adapters a run uses; built by app.py, faked in tests."""

    builder: Callable[[], Builder]
    pusher: Callable[[], Pusher]
    repositories: Callable[[], RepositoryAdmin | None]
    on_interrupt: Callable[[], None]


def check_supported(plan: Plan) -> None:
    missing = [s for s in plan.stages if s not in AVAILABLE]
    if missing:
        raise UsageError(
            f"stage(s) {', '.join(missing)} are not available in this version of pipeline;"
            " run with --only build,push (or --skip " + ",".join(missing) + ")"
        )
    if "push" in plan.stages:
        for image in plan.images:
            if not image.tags.immutable:
                raise UsageError(
                    f"image {image.name}: every tag of this run moves"
                    f" ({', '.join(image.tags.names)});"
                    " the push stage uploads images under immutable tags and mutable ones are"
                    " promoted later, so add a `sha` tag rule"
                )


def input_digests(plan: Plan) -> dict[str, str | None]:
    """In build order, so a dependency's digest feeds its dependents'.

    None when the sources cannot be read (no Dockerfile, a bad .dockerignore):
    such an image is simply built, and the builder reports the problem in its
    own words.
    """
    out: dict[str, str | None] = {}
    for image in plan.images:
        deps = [out.get(d) for d in image.depends_on if d in out]
        if any(d is None for d in deps):
            out[image.name] = None
            continue
        # The version label follows the ref (a branch name, then 1.2.3 on the
        # same commit); leaving it out lets a release reuse the image already
        # built for that commit instead of colliding with its immutable sha tag.
        labels = {k: v for k, v in image.labels.items() if k != _VERSION_LABEL}
        try:
            out[image.name] = inputs.input_digest(
                context_dir=image.context_dir,
                dockerfile=image.dockerfile,
                build_args=dict(image.build_args),
                target=image.target,
                platforms=list(image.platforms),
                labels=labels,
                secret_ids=[s.id for s in image.secrets],
                dependencies=[d for d in deps if d is not None],
            )
        except (OSError, ValueError) as err:
            log.LOG.debug("%s: no input digest (%s); it will be built", image.name, err)
            out[image.name] = None
    return out


def _path(plan: Plan, image: ImagePlan) -> str:
    """The repository path inside the registry (namespace included, host excluded)."""
    return image.image.split("/", 1)[1]


def run(
    plan: Plan,
    services: Services,
    *,
    env: dict[str, str],
    jobs: int,
    dry_run: bool,
    report: RunReport,
) -> RunReport:
    check_supported(plan)
    pusher = services.pusher() if "push" in plan.stages else None
    if pusher is not None:
        # Credentials first: their ::add-mask:: (GitHub Actions) then precedes
        # every other line of the run, as amazon-ecr-login's users expect.
        pusher.credentials.get()
    for warning in plan.warnings:
        log.LOG.warning("%s", warning)
    for image in plan.images:
        report.images.append(
            ImageReport(
                image.name,
                image.image,
                list(image.tags.immutable),
                pending_tags=list(image.tags.mutable),
            )
        )
    secrets = {i.name: build_stage.secrets_for(i, plan.root, env) for i in plan.images}
    digests = input_digests(plan)
    for image in plan.images:
        report.image(image.name).input_digest = digests[image.name]

    found: dict[str, reuse.Found] = {}
    if pusher is not None:
        _ensure_repositories(plan, services)
        for image in plan.images:
            digest = digests[image.name]
            hit = _lookup(plan, pusher, image, digest) if digest else None
            if hit is not None:
                found[image.name] = hit

    to_build = [i for i in plan.images if i.name not in found] if "build" in plan.stages else []
    if to_build:
        builder = services.builder()
        requests: dict[str, BuildRequest] = {
            i.name: build_stage.request_for(i, digests[i.name], secrets[i.name]) for i in to_build
        }
        outcomes = build_stage.run(
            to_build,
            requests,
            builder,
            workers=jobs,
            dry_run=dry_run,
            on_interrupt=services.on_interrupt,
        )
        for name, outcome in outcomes.items():
            entry = report.image(name)
            if outcome.ok and outcome.value is not None:
                entry.built = not dry_run
                entry.image_id = outcome.value.image_id or None
            else:
                _failed(entry, outcome.error, outcome.blocked_by)
        if any(i.error for i in report.images):
            log.LOG.error("build failed; nothing was pushed")
            return report

    if pusher is not None:
        _push_all(plan, pusher, found, report, jobs, services)
    return report


def _lookup(plan: Plan, pusher: Pusher, image: ImagePlan, digest: str) -> reuse.Found | None:
    """Registry reads, retried like pushes."""

    def read() -> reuse.Found | None:
        return reuse.lookup(image, _path(plan, image), digest, pusher.registry)

    return pusher.call(f"look up {image.image}", read)


def _push_all(
    plan: Plan,
    pusher: Pusher,
    found: dict[str, reuse.Found],
    report: RunReport,
    jobs: int,
    services: Services,
) -> None:
    from pipeline import parallel

    def job(name: str) -> None:
        image = plan.image(name)
        entry = report.image(name)
        path = _path(plan, image)
        if name in found:
            hit = found[name]
            published = pusher.complete(image, path, hit.manifest, hit.held)
            entry.reused = True
        else:
            published = pusher.publish(image, path)
            entry.pushed = not pusher.dry_run
        entry.digest = published.digest or None
        entry.tags = list(published.tags)

    outcomes = parallel.run(
        [i.name for i in plan.images], {}, job, workers=jobs, on_interrupt=services.on_interrupt
    )
    for name, outcome in outcomes.items():
        if not outcome.ok:
            _failed(report.image(name), outcome.error, outcome.blocked_by)


def _ensure_repositories(plan: Plan, services: Services) -> None:
    admin = services.repositories()
    if admin is None:
        return
    names = sorted({i.repository for i in plan.images})
    missing = admin.missing(names)
    if not missing:
        return
    if not plan.config.registry.create_repositories:
        raise StageError(
            f"ECR repositories missing: {', '.join(missing)}; create them, or set"
            " registry.create_repositories: true"
        )
    for name in missing:
        admin.create(name)


def _failed(entry: ImageReport, error: BaseException | None, blocked_by: str | None) -> None:
    """Record the failure in the report and say it on stderr, in the builder's own words.

    The summary on stdout repeats it, but stdout is often parsed or hidden:
    the reason must reach the log a CI user reads.
    """
    entry.error = _why(error, blocked_by)
    named = (
        entry.error if entry.error.startswith(f"{entry.name}:") else f"{entry.name}: {entry.error}"
    )
    log.LOG.error("%s", named)


def _why(error: BaseException | None, blocked_by: str | None) -> str:
    if blocked_by is not None:
        return f"not built: {blocked_by} failed"
    if isinstance(error, PipelineError):
        return log.redact(str(error))
    return log.redact(f"{type(error).__name__}: {error}")


def warn_reports_in_contexts(plan: Plan, paths: list[Path]) -> None:
    """A report written inside a build context changes that image's inputs on the next run."""
    from pipeline import dockerignore

    for image in plan.images:
        for path in paths:
            try:
                inside = path.resolve().relative_to(image.context_dir).as_posix()
                matcher = dockerignore.load(image.context_dir, image.dockerfile)
            except (ValueError, OSError):
                continue
            if not matcher.excluded(inside):
                log.LOG.warning(
                    "the report %s is inside the build context of %s and not in its"
                    " .dockerignore: the next run will see changed inputs and rebuild",
                    path,
                    image.name,
                )


def write_reports(report: RunReport, paths: list[Path]) -> None:
    from pipeline.report.run_report import write

    for path in paths:
        write(path, report)
