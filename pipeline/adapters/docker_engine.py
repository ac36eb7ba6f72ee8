"""The Docker Engine through the Docker SDK: push, inspect, classic builds.

`APIClient.push` never raises on registry failures: they arrive in the
stream with HTTP 200 (docker-py #3161). Every chunk is read; an `error`
chunk is a failure, and the digest comes from the `aux` chunk.
"""

from __future__ import annotations

import threading
from typing import Any

from pipeline.adapters.ports import BuildRequest, BuildResult, Credentials, LineSink
from pipeline.errors import BuildError, StageError
from pipeline.retry import Kind, RegistryFailure

_QUIET_STATUS = {"Pushing", "Preparing", "Waiting", "Downloading", "Extracting"}


def connect() -> Any:
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except DockerException as err:
        raise StageError(
            f"cannot reach the Docker engine ({err}); start dockerd or set DOCKER_HOST"
            " (scripts/services.sh starts one on Debian/Ubuntu)"
        ) from None
    return client


class Engine:
    """One Docker SDK client, shared by builds and pushes in this run."""

    def __init__(self, client: Any | None = None) -> None:
        self._client = client
        self._lock = threading.Lock()

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
        return image_id

    def push(
        self, repository: str, tag: str, credentials: Credentials | None, on_line: LineSink
    ) -> str:
        from docker.errors import APIError, DockerException

        if not tag:  # an empty tag would push every local tag of the repository
            raise ValueError("push needs an explicit tag")
        auth = credentials.auth_config() if credentials else None
        digest = None
        try:
            for chunk in self.client.api.push(
                repository, tag=tag, stream=True, decode=True, auth_config=auth
            ):
                digest = _read_chunk(chunk, on_line) or digest
        except APIError as err:
            raise RegistryFailure(
                f"docker push {repository}:{tag}: {err.explanation or err}"
            ) from None
        except DockerException as err:
            raise RegistryFailure(
                f"docker push {repository}:{tag}: {err}", Kind.TRANSIENT
            ) from None
        except OSError as err:  # the engine connection dropped mid-stream
            raise RegistryFailure(
                f"docker push {repository}:{tag}: {err}", Kind.TRANSIENT
            ) from None
        if not digest:
            raise RegistryFailure(f"docker push {repository}:{tag}: the engine reported no digest")
        return digest

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
        return BuildResult(image_id)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _read_chunk(chunk: dict[str, Any], on_line: LineSink) -> str | None:
    if "error" in chunk or "errorDetail" in chunk:
        detail = chunk.get("errorDetail") or {}
        raise RegistryFailure(str(detail.get("message") or chunk.get("error")))
    aux = chunk.get("aux") or {}
    if aux.get("Digest"):
        return str(aux["Digest"])
    status = chunk.get("status")
    if status and status not in _QUIET_STATUS:
        layer = chunk.get("id")
        on_line(f"{layer}: {status}" if layer else str(status))
    return None
