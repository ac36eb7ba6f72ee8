"""Skip what is already published: find an image with the same input digest.

The build stage labels every image with the digest of its inputs (Dockerfile,
context after .dockerignore, build args, target, platforms, labels). When the
registry already holds one of the plan's immutable tags with that label, the
image need not be built nor pushed again: a re-run of a commit on a cold CI
runner then costs a few registry reads, and never collides with an immutable
tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import inputs, log
from pipeline import tags as tagging
from pipeline.adapters.ports import Manifest, Registry
from pipeline.config.schema import Secret
from pipeline.image_config import labels_of
from pipeline.plan import ImagePlan, Plan, build_order
from pipeline.stages.build import INPUT_LABEL

_VERSION_LABEL = "org.opencontainers.image.version"


@dataclass(frozen=True)
class Reusable:
    """A published image with the same inputs: the push stage only adds the tags it lacks."""

    manifest: Manifest
    #: immutable tags of the plan that already name this manifest
    held: set[str] = field(default_factory=set)


def lookup(image: ImagePlan, path: str, input_digest: str, registry: Registry) -> Reusable | None:
    match: Manifest | None = None
    held: set[str] = set()
    for tag in image.tags.immutable:
        manifest = registry.manifest(path, tag)
        if manifest is None:
            continue
        if match is not None and manifest.digest == match.digest:
            held.add(tag)
            continue
        labels = labels_of(registry.config(path, manifest))
        if labels.get(INPUT_LABEL) == input_digest and match is None:
            match = manifest
            held.add(tag)
        else:
            log.LOG.info(
                "%s:%s exists with other inputs (%s); building",
                image.image,
                tag,
                labels.get(INPUT_LABEL, "no input digest"),
            )
            return None
    return Reusable(match, held) if match is not None else None


def input_digests(plan: Plan) -> dict[str, str | None]:
    """In build order, so a dependency's digest feeds its dependents'.

    A dependency that is not selected (`--image app` on a fan-out runner) still
    feeds its digest in, computed from the config: the image then has the same
    inputs whether it was built alone or with every image, so a later run of
    all of them finds it again instead of colliding with its immutable tags.
    None when the sources cannot be read (no Dockerfile, a bad .dockerignore):
    such an image is simply built, and the builder reports the problem in its
    own words.
    """
    selected = {image.name: image for image in plan.images}
    out: dict[str, str | None] = {}
    for name, sources in _closure(plan, selected):
        deps = [out.get(d) for d in sources.depends_on if d in out]
        if any(d is None for d in deps):
            out[name] = None
            continue
        # The version label follows the ref (a branch name, then 1.2.3 on the
        # same commit); leaving it out lets a release reuse the image already
        # built for that commit instead of colliding with its immutable sha tag.
        labels = {k: v for k, v in sources.labels.items() if k != _VERSION_LABEL}
        try:
            out[name] = inputs.input_digest(
                context_dir=sources.context_dir,
                dockerfile=sources.dockerfile,
                build_args=dict(sources.build_args),
                target=sources.target,
                platforms=list(sources.platforms),
                labels=labels,
                secret_ids=[s.id for s in sources.secrets],
                dependencies=[d for d in deps if d is not None],
                written=plan.written,
            )
        except (OSError, ValueError) as err:
            log.LOG.debug("%s: no input digest (%s); it will be built", name, err)
            out[name] = None
    return {name: digest for name, digest in out.items() if name in selected}


@dataclass(frozen=True)
class _Sources:
    """What an image's input digest is made of."""

    context_dir: Path
    dockerfile: Path
    build_args: Mapping[str, str]
    target: str | None
    platforms: tuple[str, ...]
    labels: Mapping[str, str]
    secrets: tuple[Secret, ...]
    depends_on: tuple[str, ...]


def _closure(plan: Plan, selected: Mapping[str, ImagePlan]) -> list[tuple[str, _Sources]]:
    """The selected images and every image they depend on, dependencies first."""
    if plan.config is None:  # a hand-made plan: only its own images
        return [(i.name, _of_plan(i)) for i in plan.images]
    by_name = {image.name: image for image in plan.config.images}
    wanted: set[str] = set()
    todo = list(selected)
    while todo:
        name = todo.pop()
        if name in wanted or name not in by_name:
            continue
        wanted.add(name)
        todo.extend(by_name[name].depends_on)
    out: list[tuple[str, _Sources]] = []
    for image in build_order([i for i in plan.config.images if i.name in wanted]):
        if image.name in selected:
            out.append((image.name, _of_plan(selected[image.name])))
            continue
        context_dir = (plan.root / image.context).resolve()
        out.append(
            (
                image.name,
                _Sources(
                    context_dir=context_dir,
                    dockerfile=(context_dir / image.dockerfile).resolve(),
                    build_args=dict(image.build_args),
                    target=image.target,
                    platforms=image.platforms,
                    # as plan.make labels it; the version label is left out anyway
                    labels=tagging.labels(
                        plan.context, title=image.name, version=None, user=image.labels
                    ),
                    secrets=image.secrets,
                    depends_on=image.depends_on,
                ),
            )
        )
    return out


def _of_plan(image: ImagePlan) -> _Sources:
    return _Sources(
        context_dir=image.context_dir,
        dockerfile=image.dockerfile,
        build_args=image.build_args,
        target=image.target,
        platforms=image.platforms,
        labels=image.labels,
        secrets=image.secrets,
        depends_on=image.depends_on,
    )


def report_warnings(plan: Plan, paths: list[Path]) -> list[str]:
    """A report written inside a build context changes that image's inputs on the next run."""
    from pipeline import dockerignore

    out: list[str] = []
    for image in plan.images:
        for path in paths:
            try:
                inside = path.resolve().relative_to(image.context_dir).as_posix()
                matcher = dockerignore.load(image.context_dir, image.dockerfile)
            except (ValueError, OSError):
                continue
            if not matcher.excluded(inside):
                out.append(
                    f"the report {path} is inside the build context of {image.name} and not"
                    " in its .dockerignore: it never counts as an input, but the builder"
                    " receives it (and `COPY .` puts it in the image); add it to .dockerignore"
                )
    return out
