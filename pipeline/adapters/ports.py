"""The small interfaces stages talk to, and the values that cross them.

Stages import only this module; `app.py` hands them the real adapters
(docker, the registry's HTTP API, ECR) and tests hand them fakes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

LineSink = Callable[[str], None]


@dataclass(frozen=True)
class Credentials:
    """Registry credentials. The password never appears in repr or str."""

    username: str
    password: str = field(repr=False)
    host: str = ""
    expires_at: dt.datetime | None = None
    issued_at: dt.datetime | None = None

    def auth_config(self) -> dict[str, str]:
        """The Docker Engine's X-Registry-Auth shape (sent in a header, never argv)."""
        return {"username": self.username, "password": self.password, "serveraddress": self.host}

    def __str__(self) -> str:
        return f"Credentials({self.username}@{self.host})"


@dataclass(frozen=True)
class SecretSource:
    id: str
    src: Path | None = None
    env: str | None = None


@dataclass(frozen=True)
class BuildRequest:
    name: str
    refs: tuple[str, ...]  # full image references to tag the result with
    context_dir: Path
    dockerfile: Path
    target: str | None = None
    build_args: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[SecretSource, ...] = ()
    platforms: tuple[str, ...] = ()
    #: images whose layers the build may reuse (looked up in the registry beforehand)
    cache_from: tuple[str, ...] = ()
    #: where the build leaves its cache: inline (in the image) | registry | none
    cache_to: str = "none"
    #: the registry cache's reference (cache_to registry, with buildx)
    cache_ref: str | None = None
    #: registry hosts docker logs in to through docker-credential-pipeline
    registry_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuildResult:
    image_id: str


class Builder(Protocol):
    name: str
    description: str  # which builder, for the log
    #: can stop one image's build in flight (so a build may start before it is known to be needed)
    stoppable: bool

    def build(self, request: BuildRequest, on_line: LineSink) -> BuildResult: ...

    def cancel(self) -> None:
        """Ctrl-C: stop builds in flight where the builder can; start no new one."""
        ...

    def stop(self, name: str) -> None:
        """Stop (or never start) one image's build: it turned out not to be needed."""
        ...

    def discard(self, request: BuildRequest) -> None:
        """Untag what a build that was not needed after all produced."""
        ...


@dataclass(frozen=True)
class Manifest:
    digest: str
    media_type: str
    body: bytes = field(repr=False)


class ImagePusher(Protocol):
    def push(
        self, repository: str, tag: str, credentials: Credentials | None, on_line: LineSink
    ) -> str:
        """Push one tag of a local image; returns the manifest digest."""
        ...

    def image_id(self, ref: str) -> str | None:
        """The local image id (config digest) behind a reference, if present."""
        ...

    def close(self) -> None: ...


class Registry(Protocol):
    """The registry's data plane (OCI distribution API)."""

    def manifest(self, repository: str, reference: str) -> Manifest | None: ...

    def config(self, repository: str, manifest: Manifest) -> dict[str, object]:
        """The image config JSON (labels, rootfs) of a single-image manifest or index."""
        ...

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str: ...

    def accepts_credentials(self) -> bool:
        """Does the registry take our credentials? (`GET /v2/`: 200 yes, 401 no)."""
        ...


@dataclass(frozen=True)
class TagMutability:
    """A repository's tag mutability as the registry reports it (ECR's imageTagMutability).

    `mode`: MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION (the filters name the tags
    that may still move) or MUTABLE_WITH_EXCLUSION (the filters name the tags that
    may not); `filters` are wildcard patterns (`*`).
    """

    mode: str = "MUTABLE"
    filters: tuple[str, ...] = ()


class RepositoryAdmin(Protocol):
    """Control-plane calls about repositories (ECR), or nothing for other registries."""

    def missing(self, names: list[str]) -> list[str]: ...

    def create(self, name: str) -> None: ...

    def mutability(self, names: list[str]) -> dict[str, TagMutability]:
        """Each existing repository's tag mutability (a missing one is left out)."""
        ...


class Retagger(Protocol):
    """Adds a tag to a manifest already in the registry (ECR PutImage, or a PUT)."""

    def tag(self, repository: str, tag: str, manifest: Manifest) -> None: ...


class CredentialSource(Protocol):
    def get(self) -> Credentials | None: ...

    def refresh(self) -> Credentials | None:
        """Fetch new credentials now (after the registry rejected the old ones)."""
        ...
