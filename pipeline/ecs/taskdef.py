"""The new task definition revision: the same task definition with new images.

Pure. The request is built from an *allowlist*, the top-level members of
botocore's RegisterTaskDefinition input shape, read at run time from the
SDK's own model. A list of fields to strip (what both aws-actions and
fabfuel/ecs-deploy keep) breaks each time ECS adds a describe-only field
(`registeredAt`, `deleteRequestedAt`, ...), and their null-pruning drops empty
environment values and log options (reference/auth-push-deploy.md B5-B7, pain
points 9-12). Here nothing is pruned and no value is ever split: the described
values are copied as they are and only `image` changes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from pipeline import imageref
from pipeline.deployment import ImageChange
from pipeline.errors import DeployError

# Tags under this prefix belong to AWS (CloudFormation puts them on what it
# creates); RegisterTaskDefinition refuses to set them.
_AWS_TAG_PREFIX = "aws:"


class TaskDefinitionError(DeployError):
    """The task definition cannot take the new image as asked."""


@dataclass(frozen=True)
class NewRevision:
    family: str
    request: Mapping[str, Any]  # the RegisterTaskDefinition parameters
    #: every container that gets the image, changed or not
    containers: tuple[str, ...]
    #: the containers whose image actually changes (the diff to print)
    changes: tuple[ImageChange, ...]
    #: top-level keys of the description that RegisterTaskDefinition does not take
    left_out: tuple[str, ...]
    #: container -> the image it runs today, for every chosen container
    previous: Mapping[str, str]

    @property
    def unchanged(self) -> bool:
        return not self.changes

    def old_images(self) -> tuple[str, ...]:
        """Distinct images the chosen containers run today, in container order."""
        return tuple(dict.fromkeys(self.previous[name] for name in self.containers))


def container_names(definitions: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(c.get("name", "")) for c in definitions]


def select(
    definitions: Sequence[Mapping[str, Any]],
    image: imageref.ImageRef,
    names: Sequence[str] | None,
    also: Sequence[imageref.ImageRef] = (),
) -> tuple[str, ...]:
    """The containers that get the new image.

    Named ones (a comma list is several names, as aws-actions reads it) must
    all exist; otherwise every container whose image is this repository, on
    this registry host or one of `also` (e.g. ECR's own host name when images
    are pushed through an override), with or without tag or digest.
    """
    existing = container_names(definitions)
    if names:
        wanted = [n.strip() for name in names for n in name.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in existing]
        if unknown:
            raise TaskDefinitionError(
                f"no container named {', '.join(unknown)} in the task definition;"
                f" its containers are: {', '.join(existing) or '(none)'}"
            )
        return tuple(dict.fromkeys(wanted))
    repos = {image.name, *(ref.name for ref in also)}
    chosen = []
    for definition in definitions:
        ref = imageref.parse(str(definition.get("image", "")))
        if ref is not None and ref.name in repos:
            chosen.append(str(definition.get("name", "")))
    if not chosen:
        running = ", ".join(f"{c.get('name')} ({c.get('image')})" for c in definitions)
        raise TaskDefinitionError(
            f"no container of the task definition runs {image.name}; name the containers"
            f" to update with `containers:` (it has: {running or 'no containers'})"
        )
    return tuple(chosen)


@dataclass(frozen=True)
class Part:
    """One image of a multi-image revision: the image and the containers it goes to."""

    image: str  # host/repo@sha256:...
    names: Sequence[str] | None = None  # `containers:`; None: every container of the repo
    also: Sequence[str] = ()  # other names of the image's repository


def new_revision(
    described: Mapping[str, Any],
    image: str,
    allowed: AbstractSet[str],
    names: Sequence[str] | None = None,
    also: Sequence[str] = (),
) -> NewRevision:
    """The RegisterTaskDefinition request that moves the chosen containers to `image`.

    `described` is DescribeTaskDefinition's answer with include=TAGS; `image`
    must carry a digest (`host/repo@sha256:...`); `allowed` is the set of
    top-level keys RegisterTaskDefinition takes.
    """
    return new_revisions(described, [Part(image, names, also)], allowed)[0]


def new_revisions(
    described: Mapping[str, Any], parts: Sequence[Part], allowed: AbstractSet[str]
) -> tuple[NewRevision, ...]:
    """One revision that moves each part's containers to its image; one view per part.

    Every view carries the same `request` (the one revision to register); its
    `containers`, `changes` and `previous` are the part's own. Two parts that
    would both set one container are refused: which image it should run is
    not ours to guess.
    """
    pinned: list[str] = []
    refs: list[imageref.ImageRef] = []
    for part in parts:
        try:
            ref = imageref.parse_strict(part.image)
        except imageref.BadReference as err:
            raise TaskDefinitionError(f"cannot deploy {part.image!r}: {err}") from None
        if not ref.digest:
            raise TaskDefinitionError(f"{part.image} has no digest: a deploy pins images by digest")
        refs.append(ref)
        pinned.append(ref.by_digest())
    task = described.get("taskDefinition")
    if not isinstance(task, Mapping) or not task.get("containerDefinitions"):
        raise TaskDefinitionError("the task definition description has no containerDefinitions")
    definitions = task["containerDefinitions"]
    chosen: list[tuple[str, ...]] = []
    owner: dict[str, int] = {}
    for i, (part, ref) in enumerate(zip(parts, refs, strict=True)):
        aliases = [alias for alias in map(imageref.parse, part.also) if alias is not None]
        names = select(definitions, ref, part.names, aliases)
        for name in names:
            if name in owner:
                raise TaskDefinitionError(
                    f"container {name} would get both {pinned[owner[name]]} and {pinned[i]};"
                    " give each image its own containers with `containers:`"
                )
            owner[name] = i
        chosen.append(names)

    request: dict[str, Any] = {k: copy.deepcopy(v) for k, v in task.items() if k in allowed}
    left_out = sorted(k for k in task if k not in allowed)
    tags = described.get("tags")
    if "tags" in allowed and tags is not None:
        request["tags"] = [copy.deepcopy(t) for t in tags if not _aws_owned(t)]
        left_out += [f"tags[{t.get('key')}]" for t in tags if _aws_owned(t)]

    changes: list[list[ImageChange]] = [[] for _ in parts]
    previous: list[dict[str, str]] = [{} for _ in parts]
    for definition in request["containerDefinitions"]:
        at = owner.get(str(definition.get("name")))
        if at is None:
            continue
        old = str(definition.get("image", ""))
        previous[at][str(definition["name"])] = old
        if old != pinned[at]:
            changes[at].append(ImageChange(str(definition["name"]), old, pinned[at]))
            definition["image"] = pinned[at]
    return tuple(
        NewRevision(
            family=str(task.get("family", "")),
            request=request,
            containers=chosen[i],
            changes=tuple(changes[i]),
            left_out=tuple(left_out),
            previous=previous[i],
        )
        for i in range(len(parts))
    )


def _aws_owned(tag: Mapping[str, Any]) -> bool:
    return str(tag.get("key", "")).lower().startswith(_AWS_TAG_PREFIX)


def images_of(described: Mapping[str, Any], names: Sequence[str]) -> dict[str, str]:
    """container name -> image, for the named containers of a description."""
    task = described.get("taskDefinition") or {}
    return {
        str(c.get("name")): str(c.get("image", ""))
        for c in task.get("containerDefinitions", ())
        if c.get("name") in names
    }
