"""In-memory fakes of the push-side ports (same signatures as the real adapters)."""

from __future__ import annotations

import hashlib
import json
import threading

from pipeline.adapters.ports import (
    BuildRequest,
    BuildResult,
    Credentials,
    LineSink,
    Manifest,
    TagMutability,
)
from pipeline.errors import BuildError
from pipeline.retry import Kind, RegistryFailure

MEDIA = "application/vnd.docker.distribution.manifest.v2+json"


def manifest_for(config_digest: str) -> Manifest:
    """A single-image manifest naming its config blob (labels live in that blob, as in
    any registry: see `FakeRegistry.store`)."""
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA,
            "config": {"digest": config_digest},
            "layers": [],
        },
        sort_keys=True,
    ).encode()
    return Manifest("sha256:" + hashlib.sha256(body).hexdigest(), MEDIA, body)


def _config_digest(manifest: Manifest) -> str:
    return str(json.loads(manifest.body)["config"]["digest"])


class FakeRegistry:
    """Holds tags -> manifests per repository; can refuse moving tags (IMMUTABLE)."""

    def __init__(self, *, immutable: bool = False, password: str | None = None) -> None:
        self.tags: dict[tuple[str, str], Manifest] = {}
        #: (repository, digest) -> manifest: a digest is found only in its own repository
        self.by_digest: dict[tuple[str, str], Manifest] = {}
        #: config blobs by digest: the image's labels are there, not in the manifest
        self.configs: dict[str, dict[str, object]] = {}
        self.immutable = immutable
        self.reads = 0
        self.credentials_ok = True
        #: the password a push must bring (None: any, or none at all)
        self.password = password

    def store(
        self, repository: str, tag: str, manifest: Manifest, labels: dict[str, str] | None = None
    ) -> None:
        """An image already in the registry: its manifest under `tag`, and its config blob."""
        self.configs.setdefault(_config_digest(manifest), {"config": {"Labels": labels or {}}})
        self.tags[(repository, tag)] = manifest
        self.by_digest[(repository, manifest.digest)] = manifest

    def manifest(self, repository: str, reference: str) -> Manifest | None:
        self.reads += 1
        if reference.startswith("sha256:"):
            return self.by_digest.get((repository, reference))
        return self.tags.get((repository, reference))

    def config(self, repository: str, manifest: Manifest) -> dict[str, object]:
        digest = _config_digest(manifest)
        if digest not in self.configs:
            raise RegistryFailure(
                f"reading {repository}@{digest}: HTTP 404 BLOB_UNKNOWN", Kind.FATAL
            )
        return self.configs[digest]

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        held = self.tags.get((repository, tag))
        if self.immutable and held is not None:
            raise RegistryFailure(
                f"TAG_INVALID: The image tag '{tag}' already exists in the '{repository}'"
                " repository and cannot be overwritten because the repository is immutable.",
                Kind.IMMUTABLE,
            )
        self.tags[(repository, tag)] = manifest
        self.by_digest[(repository, manifest.digest)] = manifest
        return manifest.digest

    def tag(self, repository: str, tag: str, manifest: Manifest) -> None:
        self.put_manifest(repository, tag, manifest)

    def accepts_credentials(self) -> bool:
        return self.credentials_ok

    def takes(self, credentials: Credentials | None) -> bool:
        """Would a push with these credentials be let in?"""
        if self.password is None:
            return True
        return credentials is not None and credentials.password == self.password


class FakeEngine:
    """A local image store plus a scripted push that lands in a FakeRegistry."""

    def __init__(self, registry: FakeRegistry, host: str = "reg.example") -> None:
        self.registry = registry
        self.host = host
        self.local: dict[str, str] = {}  # ref -> config digest
        self.failures: list[RegistryFailure] = []
        self.pushes: list[str] = []
        self.auth_seen: list[Credentials | None] = []

    def push(
        self, repository: str, tag: str, credentials: Credentials | None, on_line: LineSink
    ) -> str:
        self.pushes.append(f"{repository}:{tag}")
        self.auth_seen.append(credentials)
        if self.failures:
            raise self.failures.pop(0)
        if not self.registry.takes(credentials):  # what a registry answers: 401
            raise RegistryFailure(f"{repository}:{tag}: unauthorized: authentication required")
        config = self.local.get(f"{repository}:{tag}")
        if config is None:
            raise RegistryFailure(f"An image does not exist locally with the tag: {repository}")
        path = repository.split("/", 1)[1]
        manifest = manifest_for(config)
        self.registry.configs.setdefault(config, {"config": {"Labels": {}}})  # its config blob
        self.registry.put_manifest(path, tag, manifest)
        on_line(f"{tag}: digest: {manifest.digest}")
        return manifest.digest

    def image_id(self, ref: str) -> str | None:
        return self.local.get(ref)

    def close(self) -> None:
        pass


class FakeCredentials:
    """An ECR-like token source: the same credentials until refreshed, then new ones."""

    def __init__(self, host: str = "reg.example") -> None:
        self.host = host
        self.refreshes = 0
        self.current = Credentials("AWS", "pw-1", host)

    def get(self) -> Credentials:
        return self.current

    def refresh(self) -> Credentials:
        self.refreshes += 1
        self.current = Credentials("AWS", f"pw-{self.refreshes + 1}", self.host)
        return self.current


class FakeRepositories:
    """The repository admin (ECR's control plane): which repositories exist, creating them."""

    def __init__(
        self, existing: tuple[str, ...] = (), modes: dict[str, TagMutability] | None = None
    ) -> None:
        #: a repository with a mode set here exists (made outside the run, with that mode)
        self.modes: dict[str, TagMutability] = dict(modes or {})
        self.existing: set[str] = set(existing) | set(self.modes)
        self.created: list[str] = []

    def missing(self, names: list[str]) -> list[str]:
        return [name for name in names if name not in self.existing]

    def mutability(self, names: list[str]) -> dict[str, TagMutability]:
        return {n: self.modes.get(n, TagMutability()) for n in names if n in self.existing}

    def create(self, name: str) -> None:
        if name not in self.existing:  # created meanwhile (or before): fine
            self.existing.add(name)
            self.created.append(name)


class FakeBuilder:
    """Builds into FakeEngine's store; `hold` keeps a build running until released."""

    name = "fake"
    description = "fake builder"
    stoppable = True

    def __init__(self, engine: FakeEngine, *, fail: str | None = None) -> None:
        self.engine = engine
        self.fail = fail
        self.started: list[str] = []
        self.stopped: list[str] = []
        self.discarded: list[str] = []
        self.hold = threading.Event()
        self.hold.set()
        self.finished = threading.Event()
        self._cancelled = False

    def build(self, request: BuildRequest, on_line: LineSink) -> BuildResult:
        if self._cancelled:
            raise BuildError(f"{request.name}: interrupted")
        if request.name in self.stopped:
            raise BuildError(f"{request.name}: not needed")
        self.started.append(request.name)
        on_line(f"#1 building {request.name}")
        self.hold.wait(5)
        if self._cancelled:
            raise BuildError(f"{request.name}: interrupted")
        if request.name in self.stopped:
            raise BuildError(f"{request.name}: stopped")
        if request.name == self.fail:
            raise BuildError(f"{request.name}: RUN false: exit code 1")
        for ref in request.refs:
            self.engine.local[ref] = f"sha256:cfg-{request.name}"
        self.finished.set()
        return BuildResult(f"sha256:cfg-{request.name}")

    def discard(self, request: BuildRequest) -> None:
        self.discarded.append(request.name)
        for ref in request.refs:
            self.engine.local.pop(ref, None)

    def stop(self, name: str) -> None:
        self.stopped.append(name)
        self.hold.set()

    def cancel(self) -> None:
        """Like the real builders: a build in flight ends, and no new one starts."""
        self._cancelled = True
        self.hold.set()
