"""The emulated ECR's image state, read and written in-process on moto's models.

The sandbox registers images itself instead of calling moto's `put_image`,
which gets three things wrong for us (reference/scan-gate-and-moto.md (c)):
it trusts no real digest, reads `*` exclusion filters as regular expressions,
and deletes an image whose last tag moved. Here the digest is the registry's,
filters are ECR wildcards, and a retagged image stays behind untagged, as in
ECR (and as the registry keeps it). Callers hold the bridge's lock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

IMMUTABLE = "IMMUTABLE"
IMMUTABLE_WITH_EXCLUSION = "IMMUTABLE_WITH_EXCLUSION"
MUTABLE_WITH_EXCLUSION = "MUTABLE_WITH_EXCLUSION"

Snapshot = dict[str, frozenset[str]]  # digest -> tags


def wildcard(pattern: str, value: str) -> bool:
    """ECR exclusion filters: `*` matches any run of characters, the rest literally."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), value) is not None


class EcrState:
    def __init__(self, account: str, region: str, backends: Mapping[str, Any] | None = None):
        if backends is None:
            from moto.ecr.models import ecr_backends

            backends = ecr_backends
        self.account = account
        self.region = region
        self._backends: Mapping[str, Any] = backends

    @property
    def _backend(self) -> Any:
        return self._backends[self.account][self.region]

    def repository(self, name: str) -> Any | None:
        return self._backend.repositories.get(name)

    def registry_scanning_configuration(self) -> dict[str, Any]:
        """{"scanType": BASIC | ENHANCED, "rules": [...]}, as last put."""
        config: dict[str, Any] = self._backend.registry_scanning_configuration
        return config

    def snapshot(self, name: str) -> Snapshot:
        repo = self.repository(name)
        images = repo.images if repo is not None else []
        return {i.get_image_digest(): frozenset(i.image_tags) for i in images}

    def has(self, name: str, digest: str, tag: str | None) -> bool:
        tags = self.snapshot(name).get(digest)
        return tags is not None and (tag is None or tag in tags)

    def tag_digest(self, name: str, tag: str) -> str | None:
        for digest, tags in self.snapshot(name).items():
            if tag in tags:
                return digest
        return None

    def tag_locked(self, name: str, tag: str) -> bool:
        """Would ECR refuse to move this existing tag? (False for a new tag.)"""
        repo = self.repository(name)
        if repo is None or self.tag_digest(name, tag) is None:
            return False
        mode = repo.image_tag_mutability  # a str Enum in moto: compare, never str() it
        filters = [f["filter"] for f in repo.image_tag_mutability_exclusion_filters or ()]
        excluded = any(wildcard(f, tag) for f in filters)
        if mode == IMMUTABLE:
            return True
        if mode == IMMUTABLE_WITH_EXCLUSION:
            return not excluded
        if mode == MUTABLE_WITH_EXCLUSION:
            return excluded  # the filters name the tags that may not move
        return False

    def register(
        self, name: str, manifest: str, media_type: str, digest: str, tag: str | None
    ) -> Any:
        """Record an image the registry holds; a no-op when ECR has it already."""
        from moto.ecr.models import Image

        repo = self.repository(name)
        if repo is None:
            raise LookupError(name)
        image = next((i for i in repo.images if i.get_image_digest() == digest), None)
        if tag is not None:
            for other in repo.images:
                if other is not image and tag in other.image_tags:
                    _untag(other, tag)
        if image is None:
            # moto annotates the tag as str, but None is how it stores an untagged image.
            image = Image(self.account, tag, manifest, name, media_type, digest)  # type: ignore[arg-type]
            repo.images.append(image)
        elif tag is not None and tag not in image.image_tags:
            image.update_tag(tag)
        return image


def _untag(image: Any, tag: str) -> None:
    image.remove_tag(tag)
    if not image.image_tags:
        image.image_tag = None  # moto would keep reporting the tag it just lost
