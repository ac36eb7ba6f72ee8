"""One Engine API push (`POST /images/{name}/push`), read line by line, that can be stopped.

docker-py's `APIClient.push` keeps the HTTP response inside a generator, so
nothing can stop a push in flight: the thread reading it blocks until dockerd
is done. Two things must stop one:

- Ctrl-C. The run has to end now, and dockerd has to stop uploading, which
  it does when its API client hangs up (the request's context is cancelled).
- dockerd's own layer retry, which waits 5, 10, 15 and 20 s between attempts
  (moby distribution/xfer/upload.go) while holding one of its five upload
  slots. Our policy retries the whole push sooner and with jitter, and a
  retried push skips the layers that made it ("Layer already exists").

So the push is the same request docker-py sends, made through the SDK's own
session (same transport, same auth header encoding), with the response kept.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from pipeline import log, retry
from pipeline.retry import Kind, RegistryFailure


class PushStream:
    def __init__(self, response: Any, what: str) -> None:
        self._response = response
        self.what = what

    @classmethod
    def open(cls, api: Any, repository: str, tag: str, auth: dict[str, str] | None) -> PushStream:
        import requests
        from docker import auth as docker_auth

        what = f"docker push {repository}:{tag}"
        headers: dict[str, str | bytes] = {"Content-Type": "application/json"}
        header: str | bytes | None
        if auth is not None:  # a header, as docker-py sends it: never argv, never a file
            header = docker_auth.encode_header(auth)
        else:  # what `docker push` would use: the user's docker config
            header = _config_header(api, repository)
        if header:
            headers["X-Registry-Auth"] = header
            # the header is the credential in one more form: base64url of its JSON
            log.mask(header.decode() if isinstance(header, bytes) else header)
        url = f"{api.base_url}/v{api.api_version}/images/{quote(repository, safe='/:')}/push"
        try:
            response = api.post(
                url,
                params={"tag": tag},
                data="{}",
                headers=headers,
                stream=True,
                timeout=retry.clip(api.timeout or 600),
            )
        except requests.RequestException as err:
            raise RegistryFailure(f"{what}: {type(err).__name__}: {err}") from None
        if response.status_code >= 400:  # e.g. no such local image: before any upload
            message = _engine_message(response)
            response.close()
            raise RegistryFailure(f"{what}: {message}")
        return cls(response, what)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """The engine's JSON messages; a broken or hung-up stream is a transient failure."""
        import requests
        import urllib3

        try:
            for line in self._response.iter_lines():
                if line.strip():
                    yield json.loads(line)
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as err:
            # a stream broken mid-push, by a reset or by `interrupt()`
            raise RegistryFailure(
                f"{self.what}: connection broken ({type(err).__name__}: {err})", Kind.TRANSIENT
            ) from None
        except (ValueError, AttributeError) as err:  # the stream was closed under our feet
            raise RegistryFailure(f"{self.what}: stream closed ({err})", Kind.TRANSIENT) from None

    def interrupt(self) -> None:
        """Hang up, from any thread: a blocked read returns, dockerd cancels the push."""
        connection = getattr(self._response.raw, "connection", None)  # None once released
        sock = getattr(connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        """From the reading thread, when done (a finished stream keeps its connection)."""
        if not self._finished():  # stopped early: make sure dockerd sees us leave
            self.interrupt()
        self._response.close()

    def _finished(self) -> bool:
        return getattr(self._response.raw, "connection", None) is None


def _config_header(api: Any, repository: str) -> str | bytes | None:
    """docker-py's own lookup in the docker config; a helper that fails means none."""
    from docker import auth as docker_auth
    from docker.errors import DockerException

    try:
        registry, _ = docker_auth.resolve_repository_name(repository)
        header: str | bytes | None = docker_auth.get_config_header(api, registry)
    except (DockerException, OSError, ValueError) as err:
        raise RegistryFailure(
            f"docker push {repository}: the docker config's credentials for it cannot be"
            f" read ({type(err).__name__})",
            Kind.FATAL,
        ) from None
    return header


def _engine_message(response: Any) -> str:
    try:
        message = response.json().get("message")
    except ValueError:
        message = None
    return str(message or f"HTTP {response.status_code} {response.reason}")
