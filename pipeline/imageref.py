"""Container image references as docker reads them: `[host[:port]/]path[:tag][@digest]`.

Pure. Deploy targets compare references by repository (host and path, with
Docker Hub's implicit `docker.io/library/` spelled out), never by substring:
`registry/app` must not match `registry/app-worker` or `registry/team/app`.
Tools that rewrite tags with `image.rsplit(':', 1)` break `host:5000/repo`
and `repo@sha256:...` (reference/auth-push-deploy.md B7): here a port is
never a tag and a digest is never cut.

`parse` answers None for text that is not a reference (manifests hold
templates and prose); `parse_strict` says why with `BadReference`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGEST = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_PATH = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::\d+)?$")
DOCKER_HUB = "docker.io"
_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


class BadReference(ValueError):
    """Not an image reference docker would accept."""


@dataclass(frozen=True)
class ImageRef:
    """One parsed reference; `repository` includes the host when there is one, as written."""

    repository: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    @property
    def host(self) -> str | None:
        """The host as written; None when the reference names none (Docker Hub)."""
        first, sep, _ = self.repository.partition("/")
        return first if sep and _is_host(first) else None

    @property
    def path(self) -> str:
        host = self.host
        return self.repository[len(host) + 1 :] if host else self.repository

    @property
    def registry_host(self) -> str:
        """The registry to ask: lower-case, Docker Hub in all its spellings is `docker.io`."""
        host = (self.host or DOCKER_HUB).lower()
        return DOCKER_HUB if host in _HUB_HOSTS else host

    @property
    def registry_path(self) -> str:
        """The path in that registry (`library/nginx` for `nginx`)."""
        path = self.path
        return f"library/{path}" if self.registry_host == DOCKER_HUB and "/" not in path else path

    @property
    def name(self) -> str:
        """`registry_host/registry_path`: what two references of one repository share."""
        return f"{self.registry_host}/{self.registry_path}"

    def same_repository(self, other: ImageRef) -> bool:
        return self.name == other.name

    def reference(self) -> str:
        """What to ask a registry for: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    def by_digest(self) -> str:
        """`host/path@digest`, the form a deploy pins."""
        if not self.digest:
            raise BadReference(f"{self} has no digest")
        return f"{self.name}@{self.digest}"


def _looks_like_host(part: str) -> bool:
    # docker's rule: the first component is a host when it has a dot or a port,
    # is "localhost", or has upper-case letters (paths cannot).
    return "." in part or ":" in part or part == "localhost" or part.lower() != part


def _is_host(part: str) -> bool:
    return _looks_like_host(part) and bool(_HOST.match(part))


def parse_strict(text: str) -> ImageRef:
    """Parse a reference; raises BadReference with the reason."""
    stripped = text.strip()
    if not stripped or any(c.isspace() for c in stripped):
        raise BadReference(f"{text!r} is not an image reference")
    name, at, digest = stripped.partition("@")
    if at and not _DIGEST.match(digest):
        raise BadReference(f"{text!r}: {digest!r} is not a digest")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag: str | None = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.match(tag):
            raise BadReference(f"{text!r}: {tag!r} is not a tag")
    first, sep, rest = name.partition("/")
    host_given = sep and (
        "." in first or ":" in first or first == "localhost" or first.lower() != first
    )
    if host_given and not _HOST.match(first):
        raise BadReference(f"{text!r}: {first!r} is not a registry host")
    path = rest if host_given else name
    if not _PATH.match(path):
        raise BadReference(f"{text!r}: {path!r} is not a repository path")
    return ImageRef(name, tag, digest or None)


def parse(text: str) -> ImageRef | None:
    """The reference, or None when `text` is not one (a template, a number, prose)."""
    try:
        return parse_strict(text)
    except BadReference:
        return None


def canonical_repository(repository: str) -> str:
    """`nginx` and `docker.io/library/nginx` are one repository; hosts compare lower-case."""
    return ImageRef(repository).name


def same_repository(a: str, b: str) -> bool:
    return canonical_repository(a) == canonical_repository(b)


def pinned(repository: str, digest: str) -> str:
    """`repo@sha256:...`: what deploy targets run, so they run exactly what was scanned."""
    return f"{repository}@{digest}"
