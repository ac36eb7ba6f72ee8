"""Skip what is already published: find an image with the same input digest.

The build stage labels every image with the digest of its inputs (Dockerfile,
context after .dockerignore, build args, target, platforms, labels). When the
registry already holds one of the plan's immutable tags with that label, the
image need not be built nor pushed again: a re-run of a commit on a cold CI
runner then costs a few registry reads, and never collides with an immutable
tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline import log
from pipeline.adapters.ports import Manifest, Registry
from pipeline.adapters.registry_http import labels_of
from pipeline.plan import ImagePlan
from pipeline.stages.build import INPUT_LABEL


@dataclass(frozen=True)
class Found:
    manifest: Manifest
    #: immutable tags of the plan that already name this manifest
    held: set[str] = field(default_factory=set)


def lookup(image: ImagePlan, path: str, input_digest: str, registry: Registry) -> Found | None:
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
    return Found(match, held) if match is not None else None
