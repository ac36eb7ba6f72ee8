"""Image references as docker reads them: `[host[:port]/]path[:tag][@digest]`.

fabfuel/ecs-deploy rewrites tags with `image.rsplit(':', 1)`, which breaks
`host:5000/repo` and `repo@sha256:...` (reference/auth-push-deploy.md B7); the
rules here are those of docker's reference grammar, so a port is never a tag
and a digest is never cut.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::\d+)?|\[[0-9A-Fa-f:]+\](?::\d+)?")
DOCKER_HUB = "docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


class BadReference(ValueError):
    """Not an image reference docker would accept."""


@dataclass(frozen=True)
class ImageRef:
    host: str  # lower-case; Docker Hub in all its spellings is "docker.io"
    repository: str  # the path after the host ("library/nginx" for "nginx")
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """host/repository: what two references of one repository share."""
        return f"{self.host}/{self.repository}"

    def same_repository(self, other: ImageRef) -> bool:
        return self.name == other.name

    def by_digest(self) -> str:
        """`host/repository@digest`, the form a deploy pins."""
        if not self.digest:
            raise BadReference(f"{self} has no digest")
        return f"{self.name}@{self.digest}"

    def reference(self) -> str:
        """What to ask a registry for: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse(text: str) -> ImageRef:
    """Parse a reference; raises BadReference with the reason."""
    rest, at, digest = text.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        raise BadReference(f"{text!r}: {digest!r} is not a digest")
    host, path = _split_host(rest)
    tag = None
    last_slash = path.rfind("/")
    colon = path.rfind(":")
    if colon > last_slash:
        path, tag = path[:colon], path[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise BadReference(f"{text!r}: {tag!r} is not a tag")
    if not path or not all(_COMPONENT.fullmatch(part) for part in path.split("/")):
        raise BadReference(f"{text!r}: {path!r} is not a repository path")
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return ImageRef(host, path, tag, digest or None)


def try_parse(text: str) -> ImageRef | None:
    try:
        return parse(text)
    except BadReference:
        return None


def _split_host(name: str) -> tuple[str, str]:
    # docker's rule: the first component is a host when it has a dot or a
    # port, is "localhost", or has upper-case letters (paths cannot).
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.lower() != first):
        if not _HOST.fullmatch(first):
            raise BadReference(f"{name!r}: {first!r} is not a registry host")
        host = first.lower()
        return (DOCKER_HUB if host in _HUB_ALIASES else host), rest
    return DOCKER_HUB, name
