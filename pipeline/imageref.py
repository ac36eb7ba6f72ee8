"""Container image references: `[host[:port]/]path[:tag][@digest]`.

Pure. Deploy targets compare references by repository (host and path, with
Docker Hub's implicit `docker.io/library/` spelled out), never by substring:
`registry/app` must not match `registry/app-worker` or `registry/team/app`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_PATH = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::\d+)?$")
_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")


@dataclass(frozen=True)
class ImageRef:
    """One parsed reference; `repository` includes the host when there is one."""

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
        first, sep, _ = self.repository.partition("/")
        return first if sep and _is_host(first) else None

    @property
    def path(self) -> str:
        host = self.host
        return self.repository[len(host) + 1 :] if host else self.repository


def _is_host(part: str) -> bool:
    # Docker's rule: the first component is a host if it has a dot or a port, or is localhost.
    return ("." in part or ":" in part or part == "localhost") and bool(_HOST.match(part))


def parse(text: str) -> ImageRef | None:
    """The reference, or None when `text` is not one (a template, a number, prose)."""
    text = text.strip()
    if not text or any(c.isspace() for c in text):
        return None
    name, _, digest = text.partition("@")
    if digest and not _DIGEST.match(digest):
        return None
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag: str | None = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
        if not _TAG.match(tag):
            return None
    first, sep, rest = name.partition("/")
    path = rest if sep and _is_host(first) else name
    if not _PATH.match(path):
        return None
    return ImageRef(name, tag, digest or None)


def canonical_repository(repository: str) -> str:
    """`nginx` and `docker.io/library/nginx` are one repository; others stay as written."""
    first, sep, rest = repository.partition("/")
    if sep and _is_host(first):
        if first in _HUB_HOSTS:
            return "docker.io/" + (rest if "/" in rest else f"library/{rest}")
        return repository
    return "docker.io/" + (repository if sep else f"library/{repository}")


def same_repository(a: str, b: str) -> bool:
    return canonical_repository(a) == canonical_repository(b)


def pinned(repository: str, digest: str) -> str:
    """`repo@sha256:...`: what deploy targets run, so they run exactly what was scanned."""
    return f"{repository}@{digest}"
