"""Registry side of a run: credentials, repositories, what is published, the pushes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from pipeline import parallel
from pipeline.adapters.ports import RepositoryAdmin
from pipeline.errors import RegistryError, StageError
from pipeline.plan import ImagePlan, Plan
from pipeline.retry import RegistryFailure
from pipeline.stages import failures, reuse
from pipeline.stages.push import Pushed, Pusher
from pipeline.stages.results import ImagePublished, Published


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
    reusable: Mapping[str, reuse.Reusable],
    *,
    jobs: int,
    on_interrupt: Callable[[], None],
) -> Published:
    """The push stage's value: each image uploaded once, or completed when reusable."""

    def job(name: str) -> Pushed:
        image = plan.image(name)
        where = path(image)
        if name in reusable:
            hit = reusable[name]
            return pusher.complete(image, where, hit.manifest, hit.held)
        return pusher.publish(image, where)

    outcomes = parallel.run(
        [i.name for i in plan.images], {}, job, workers=jobs, on_interrupt=on_interrupt
    )
    out = []
    for image in plan.images:
        outcome = outcomes[image.name]
        entry = ImagePublished(
            image.name,
            image.image,
            path(image),
            tags=tuple(image.tags.immutable),
            pending_tags=tuple(image.tags.mutable),
            revision=plan.context.sha,
            version=image.tags.version,
        )
        if outcome.ok and outcome.value is not None:
            done = outcome.value
            entry = replace(
                entry,
                digest=done.digest or None,
                tags=done.tags,
                pushed=image.name not in reusable and not pusher.dry_run,
                reused=image.name in reusable,
            )
        else:
            entry = replace(
                entry, error=failures.describe(image.name, outcome.error, outcome.blocked_by)
            )
        out.append(entry)
    return Published(tuple(out))
