"""The Docker Engine through the Docker SDK: push, inspect, classic builds.

A push never fails at the HTTP level on registry failures: they arrive in
the stream with HTTP 200 (docker-py #3161). Every chunk is read; an `error`
chunk is a failure, and the digest comes from the `aux` chunk. Pushes in
flight can be stopped (`cancel`, on Ctrl-C), and a layer that dockerd would
retry after a 5-20 s pause fails the push at once, for our retry policy to
handle (push_stream.py says why).
"""

from __future__ import annotations

import re
import threading
from typing import Any

from pipeline import retry
from pipeline.adapters.ports import BuildRequest, BuildResult, Credentials, LineSink
from pipeline.adapters.push_stream import PushStream
from pipeline.console import events
from pipeline.errors import BuildError, RegistryError, StageError
from pipeline.retry import Kind, RegistryFailure

_QUIET_STATUS = {"Pushing", "Preparing", "Waiting", "Downloading", "Extracting"}
_LAYER_RETRY = re.compile(r"^Retrying in (\d+) seconds?$")


def _engine_errors() -> tuple[type[Exception], ...]:
    import requests
    from docker.errors import DockerException

    return (DockerException, requests.RequestException, OSError)


def connect() -> Any:
    import docker

    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except _engine_errors() as err:
        raise StageError(
            f"cannot reach the Docker engine ({type(err).__name__}: {err}); start dockerd or"
            " set DOCKER_HOST (scripts/services.sh starts one on Debian/Ubuntu)"
        ) from None
    return client


class Engine:
    """One Docker SDK client, shared by builds and pushes in this run."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._pushes: set[PushStream] = set()
        self._cancelled = False

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = connect()
            return self._client

    def image_id(self, ref: str) -> str | None:
        from docker.errors import ImageNotFound

        try:
            image_id: str = self.client.api.inspect_image(ref)["Id"]
        except ImageNotFound:
            return None
        except _engine_errors() as err:
            raise StageError(f"docker inspect {ref}: {type(err).__name__}: {err}") from None
        return image_id

    def push(
        self, repository: str, tag: str, credentials: Credentials | None, on_line: LineSink
    ) -> str:
        if not tag:  # an empty tag would push every local tag of the repository
            raise ValueError("push needs an explicit tag")
        auth = credentials.auth_config() if credentials else None
        stream = PushStream.open(self._live_client().api, repository, tag, auth)
        with self._lock:
            self._pushes.add(stream)
        digest = None
        progressed = False
        # The try's deadline is a hard bound: when it passes, the push is hung up
        # (dockerd cancels it), however long dockerd itself would have gone on.
        expired = threading.Event()
        watchdog = _watchdog(expired, stream)
        try:
            if self._cancelled:  # cancelled while this push was being opened
                raise RegistryFailure(f"{stream.what}: interrupted", Kind.FATAL)
            for chunk in stream:
                progressed = progressed or _layer_done(chunk)
                digest = _read_chunk(chunk, on_line, f"{repository}:{tag}") or digest
            if not digest and not expired.is_set():
                raise RegistryFailure(
                    f"{stream.what}: the engine's stream ended without a digest"
                    " (connection closed)",
                    Kind.TRANSIENT,
                )
        except RegistryFailure as err:
            if self._cancelled:
                raise RegistryFailure(f"{stream.what}: interrupted", Kind.FATAL) from None
            if not expired.is_set():
                err.progressed = progressed  # a retry will skip the layers that made it
                raise
        finally:
            if watchdog is not None:
                watchdog.cancel()
            with self._lock:
                self._pushes.discard(stream)
            stream.close()
        if not digest:  # the watchdog hung up
            raise RegistryFailure(
                f"{stream.what}: not done within the time left (timeout)",
                Kind.TRANSIENT,
                progressed=progressed,
            )
        return digest

    def _live_client(self) -> Any:
        if self._cancelled:  # a retry after Ctrl-C must not start a new push
            raise RegistryFailure("interrupted", Kind.FATAL)
        return self.client

    def pull(self, ref: str, auth: dict[str, str] | None) -> None:
        """Pull one image (a layer-cache candidate); auth travels in the Engine API header."""
        from docker.errors import APIError

        repository, tag = _split_ref(ref)
        try:
            for chunk in self.client.api.pull(
                repository, tag, auth_config=auth, stream=True, decode=True
            ):
                if "error" in chunk or "errorDetail" in chunk:
                    detail = chunk.get("errorDetail") or {}
                    raise RegistryError(f"pull {ref}: {detail.get('message') or chunk['error']}")
        except APIError as err:
            raise RegistryError(f"pull {ref}: {err.explanation or err}") from None
        except _engine_errors() as err:
            raise RegistryError(f"pull {ref}: {type(err).__name__}: {err}") from None

    def classic_build(self, request: BuildRequest, on_line: LineSink) -> BuildResult:
        """The legacy builder, the only one the SDK speaks (no secrets, one platform)."""
        from docker.errors import APIError

        if request.secrets:
            raise BuildError(f"{request.name}: build secrets need BuildKit (docker buildx)")
        if len(request.platforms) > 1:
            raise BuildError(f"{request.name}: several platforms need docker buildx")
        try:
            dockerfile = str(request.dockerfile.relative_to(request.context_dir))
        except ValueError:
            dockerfile = str(request.dockerfile)
        image_id = None
        try:
            stream = self.client.api.build(
                path=str(request.context_dir),
                dockerfile=dockerfile,
                tag=request.refs[0],
                buildargs=dict(request.build_args),
                target=request.target,
                labels=dict(request.labels),
                cache_from=list(request.cache_from) or None,
                platform=request.platforms[0] if request.platforms else None,
                rm=True,
                forcerm=True,
                decode=True,
            )
            for chunk in stream:
                if "error" in chunk or "errorDetail" in chunk:
                    detail = chunk.get("errorDetail") or {}
                    raise BuildError(
                        f"{request.name}: {detail.get('message') or chunk.get('error')}"
                    )
                text = chunk.get("stream", "")
                for line in text.splitlines():
                    if line.strip():
                        on_line(line)
                aux = chunk.get("aux") or {}
                image_id = aux.get("ID") or image_id
            if image_id is None:
                raise BuildError(f"{request.name}: the builder reported no image id")
            for ref in request.refs[1:]:
                repo, _, tag = ref.rpartition(":")
                self.client.api.tag(image_id, repo, tag)
        except APIError as err:
            raise BuildError(f"{request.name}: {err.explanation or err}") from None
        except _engine_errors() as err:
            raise BuildError(f"{request.name}: {type(err).__name__}: {err}") from None
        return BuildResult(image_id)

    def cancel(self) -> None:
        """Ctrl-C: stop every push in flight (dockerd cancels them) and start no other."""
        with self._lock:
            self._cancelled = True
            pushes = list(self._pushes)
        for stream in pushes:
            stream.interrupt()

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _watchdog(expired: threading.Event, stream: PushStream) -> threading.Timer | None:
    limit = retry.current_deadline()
    if limit is None:
        return None

    def expire() -> None:
        expired.set()
        stream.interrupt()

    timer = threading.Timer(limit.left(), expire)
    timer.daemon = True
    timer.start()
    return timer


def _layer_done(chunk: dict[str, Any]) -> bool:
    status = str(chunk.get("status") or "")
    return status == "Pushed" or status.startswith("Mounted from")


def _read_chunk(chunk: dict[str, Any], on_line: LineSink, ref: str = "") -> str | None:
    if "error" in chunk or "errorDetail" in chunk:
        detail = chunk.get("errorDetail") or {}
        raise RegistryFailure(str(detail.get("message") or chunk.get("error")))
    aux = chunk.get("aux") or {}
    if aux.get("Digest"):
        return str(aux["Digest"])
    status = chunk.get("status")
    retry = _LAYER_RETRY.match(str(status or ""))
    if retry:
        raise RegistryFailure(
            f"layer {chunk.get('id', '?')} failed to upload (dockerd would wait"
            f" {retry[1]} s to try it again; the push is retried instead)",
            Kind.TRANSIENT,
        )
    layer = chunk.get("id")
    if status and layer:  # the terminal's per-layer progress, with bytes when dockerd says
        detail = chunk.get("progressDetail") or {}
        current, total = _count(detail.get("current")), _count(detail.get("total"))
        events.emit(events.LayerProgress(ref, str(layer), str(status), current, total))
    if status and status not in _QUIET_STATUS:
        on_line(f"{layer}: {status}" if layer else str(status))
    return None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _split_ref(ref: str) -> tuple[str, str]:
    """`host/repo:tag` or `host/repo@sha256:...` -> (repository, tag or digest)."""
    if "@" in ref:
        repository, _, digest = ref.partition("@")
        return repository, digest
    repository, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return ref, "latest"
    return repository, tag
