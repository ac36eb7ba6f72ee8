"""The image that manifests are pointed at, and what each kind of field receives."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline import imageref, log
from pipeline.deployment import DeployError

_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


def mask_url(text: str) -> str:
    """`https://user:token@host/x` -> `https://***@host/x`, anywhere in a text."""
    return log.redact(_USERINFO.sub("***@", text))


@dataclass(frozen=True)
class NewImage:
    name: str  # the image's name in pipeline.yaml
    repository: str  # host/path, as pushed
    digest: str  # sha256:...
    tag: str | None = None  # the first immutable tag, for files that pin by tag
    #: other names of the repository that count as this image's (ECR's own host when
    #: images are pushed through a host override); such references get `ref` too
    also: tuple[str, ...] = ()

    def names(self, repository: str) -> bool:
        """Does `repository` (host/path) name this image's repository?"""
        return any(
            imageref.same_repository(repository, mine) for mine in (self.repository, *self.also)
        )

    @property
    def ref(self) -> str:
        return imageref.pinned(self.repository, self.digest)

    def field(self, field: str | None, where: str = "") -> str:
        """The value for a whole reference (None), or its `tag`, `name` or `digest` part."""
        if field is None:
            return self.ref
        if field == "name":
            return self.repository
        if field == "digest":
            return self.digest
        if self.tag is None:
            raise DeployError(
                f"{where}a field takes a tag, but {self.name} has no immutable tag"
                " (add a `sha` or semver tag rule, or pin the field by digest)"
            )
        return self.tag
