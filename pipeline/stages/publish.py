"""Registry side of a run: credentials, repositories, what is published, the pushes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from pipeline import parallel
from pipeline.adapters.ports import RepositoryAdmin, TagMutability
from pipeline.errors import RegistryError, StageError, UsageError
from pipeline.plan import ImagePlan, Plan
from pipeline.retry import RegistryFailure
from pipeline.stages import collisions, failures, reuse
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


@dataclass(frozen=True)
class Repositories:
    """What the run learned from the registry's control plane (ECR) about its repositories."""

    #: created by this run (empty, so nothing in them can be reused)
    created: set[str] = field(default_factory=set)
    #: each repository that existed before, and what it lets a tag do
    mutability: dict[str, TagMutability] = field(default_factory=dict)


def repositories(plan: Plan, make_admin: Callable[[], RepositoryAdmin | None]) -> Repositories:
    """Missing repositories created (or the run stopped), and the others' tag mutability
    read when the promote stage will move tags in them."""
    admin = make_admin()
    if admin is None:
        return Repositories()
    created = ensure_repositories(plan, lambda: admin)
    if "promote" not in plan.stages or not any(i.tags.mutable for i in plan.images):
        return Repositories(created)
    names = sorted({i.repository for i in plan.images if i.tags.mutable} - created)
    return Repositories(created, admin.mutability(names) if names else {})


def refuse_collisions(
    plan: Plan,
    pusher: Pusher,
    reusable: Mapping[str, reuse.Reusable],
    mutability: Mapping[str, TagMutability],
) -> None:
    """Stop the run (usage, exit 2) before anything is pushed when promote would have to
    move a tag its repository does not let move; one line per repository."""
    found: dict[str, list[str]] = {}
    for image in plan.images:
        mode = mutability.get(image.repository)
        candidates = collisions.stuck(mode, image.tags.mutable) if mode else []
        if not mode or not candidates:
            continue
        current = {t: _current(pusher, image, t) for t in candidates}
        hit = reusable.get(image.name)
        ours = hit.manifest.digest if hit is not None else None
        for tag in collisions.collisions(mode, current, ours):
            if tag not in found.setdefault(image.repository, []):
                found[image.repository].append(tag)
    lines = [collisions.refusal(r, mutability[r], tags) for r, tags in found.items() if tags]
    if lines:
        raise UsageError("\n".join(lines))


def _current(pusher: Pusher, image: ImagePlan, tag: str) -> str | None:
    """The digest `tag` names now (None: no such tag), read like the other lookups."""
    what = f"read {image.image}:{tag}"
    try:
        found = pusher.call(what, lambda: pusher.registry.manifest(path(image), tag))
    except RegistryFailure as err:
        raise RegistryError(f"{what}: {err}") from None
    return found.digest if found is not None else None


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
