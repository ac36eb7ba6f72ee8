"""Registry side of a run: credentials, repositories, what is published, the pushes."""

from __future__ import annotations

from collections.abc import Callable

from pipeline import parallel
from pipeline.adapters.ports import RepositoryAdmin
from pipeline.errors import RegistryError, StageError
from pipeline.plan import ImagePlan, Plan
from pipeline.report.run_report import RunReport
from pipeline.retry import RegistryFailure
from pipeline.stages import reuse
from pipeline.stages.push import Pusher


def path(image: ImagePlan) -> str:
    """The repository path inside the registry (namespace included, host excluded)."""
    return image.image.split("/", 1)[1]


def signed_in(make: Callable[[], Pusher]) -> Pusher:
    pusher = make()
    pusher.sign_in()
    return pusher


def ensure_repositories(plan: Plan, make_admin: Callable[[], RepositoryAdmin | None]) -> set[str]:
    """The repositories this run created (empty, so nothing in them can be reused)."""
    admin = make_admin()
    if admin is None:
        return set()
    names = sorted({i.repository for i in plan.images})
    missing = admin.missing(names)
    if not missing:
        return set()
    if not plan.config.registry.create_repositories:
        raise StageError(
            f"ECR repositories missing: {', '.join(missing)}; create them, or set"
            " registry.create_repositories: true"
        )
    for name in missing:
        admin.create(name)
    return set(missing)


def published(
    plan: Plan, pusher: Pusher, digests: dict[str, str | None], created: set[str]
) -> dict[str, reuse.Reusable]:
    found: dict[str, reuse.Reusable] = {}
    for image in plan.images:
        digest = digests[image.name]
        fresh = image.repository in created  # created just now: empty
        hit = _lookup(pusher, image, digest) if digest and not fresh else None
        if hit is not None:
            found[image.name] = hit
    return found


def _lookup(pusher: Pusher, image: ImagePlan, digest: str) -> reuse.Reusable | None:
    """Registry reads, retried like pushes; a failure is the run's, named after the image."""

    def read() -> reuse.Reusable | None:
        return reuse.lookup(image, path(image), digest, pusher.registry)

    what = f"look up {image.image}"
    try:
        return pusher.call(what, read)
    except RegistryFailure as err:
        raise RegistryError(f"{what}: {err}") from None


def push_all(
    plan: Plan,
    pusher: Pusher,
    found: dict[str, reuse.Reusable],
    report: RunReport,
    jobs: int,
    on_interrupt: Callable[[], None],
) -> None:
    def job(name: str) -> None:
        image = plan.image(name)
        entry = report.image(name)
        where = path(image)
        if name in found:
            hit = found[name]
            published = pusher.complete(image, where, hit.manifest, hit.held)
            entry.reused = True
        else:
            published = pusher.publish(image, where)
            entry.pushed = not pusher.dry_run
        entry.digest = published.digest or None
        entry.tags = list(published.tags)

    outcomes = parallel.run(
        [i.name for i in plan.images], {}, job, workers=jobs, on_interrupt=on_interrupt
    )
    for name, outcome in outcomes.items():
        if not outcome.ok:
            report.image(name).fail(outcome.error, outcome.blocked_by)
