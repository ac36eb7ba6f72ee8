"""The control channel: named actions sent into the running sandbox server.

The server's services register what they can be asked in `Channel.actions`, a
dict of action name -> handler; a new service adds its actions with one line
each in server.py, next to the others:

    channel.actions["findings"] = scanner.script
    channel.actions["fail-next/ecs"] = rollouts.fail_next
    channel.actions["fail-next/eks"] = kube.fail_next   # the Kubernetes emulation

A handler takes the request (a JSON object, as a dict) and returns anything
JSON can carry. It raises ActionError(message) when the request cannot be
done; the message reaches the user as it is (`pipeline sandbox ...` prints it
and exits 1). Any other exception is answered as an internal error and logged
with its traceback in server.log. Handlers run on the channel's threads, so
they take their service's lock.

The requests the CLI sends:

    findings       {"repository", "tag" | "digest" (or neither: any image),
                    "status", "delay", "description", "findings" | "enhancedFindings",
                    "findingSeverityCounts"?}                       (findings.py)
    fail-next/ecs  {"cluster", "service", "reason"?}
    fail-next/eks  {"namespace", "deployment"}

An action nobody registered is answered 404, with UNAVAILABLE's message when
it names one ("the Kubernetes emulation is not running").

Wire: `POST /actions/<name>` with the token in X-Sandbox-Control-Token and a
JSON body of at most MAX_BODY bytes; the answer is 200 {"result": ...} or an
error status with {"error": "message"}.

Protection: the channel listens on loopback only, and every request must carry
the sandbox's token: random per sandbox, kept in TOKEN_FILE (0600) in the
state folder (0700), compared in constant time before any of the body is read.
Another local user can reach the port but cannot read the token.
"""

from __future__ import annotations

import hmac
import http.client
import json
import logging
import os
import re
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pipeline.errors import SandboxError
from pipeline.sandbox import wire
from pipeline.sandbox.serving import ServerThread

LOG = logging.getLogger("pipeline.sandbox.channel")
TOKEN_FILE = "control.token"  # noqa: S105 - a file name, not a secret
TOKEN_HEADER = "X-Sandbox-Control-Token"  # noqa: S105 - a header name, not a secret
MAX_BODY = 40 << 20  # a findings file (findings.MAX_FILE) and its envelope
READ_TIMEOUT = 30.0
UNAVAILABLE = {
    "fail-next/eks": "the Kubernetes emulation is not running in this sandbox",
}
_PATH = re.compile(r"^/actions/(?P<name>[a-z0-9][a-z0-9/_-]{0,63})$")

Handler = Callable[[dict[str, Any]], Any]


class ActionError(Exception):
    """A request the action cannot do; the message is for the user."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Channel:
    """The server side: `Channel(token, host, port).start()`; handlers in `actions`."""

    def __init__(self, token: str, host: str, port: int) -> None:
        self.actions: dict[str, Handler] = {}
        handler = type("ChannelHandler", (_Handler,), {"channel": self, "token": token})
        self._serving = ServerThread(ThreadingHTTPServer((host, port), handler))
        self._serving.server.daemon_threads = True

    @property
    def port(self) -> int:
        return int(self._serving.server.server_address[1])

    def start(self) -> Channel:
        self._serving.start("control")
        return self

    def stop(self) -> None:
        self._serving.stop()

    def dispatch(self, name: str, request: dict[str, Any]) -> Any:
        handler = self.actions.get(name)
        if handler is None:
            raise ActionError(UNAVAILABLE.get(name, f"unknown action {name!r}"), 404)
        return handler(request)


class _Handler(BaseHTTPRequestHandler):
    channel: Channel
    token: str
    timeout = READ_TIMEOUT

    def log_message(self, format: str, *args: object) -> None:
        LOG.debug(format, *args)

    def do_POST(self) -> None:
        match = _PATH.match(self.path)
        if match is None:
            self._answer(404, {"error": f"no such endpoint: {self.path[:100]}"}, close=True)
            return
        given = self.headers.get(TOKEN_HEADER, "").encode("latin-1", "replace")
        if not hmac.compare_digest(given, self.token.encode()):
            self._answer(403, {"error": "wrong or missing control token"}, close=True)
            return
        try:
            length = wire.content_length(self.headers, MAX_BODY)
        except wire.BodyRefused as refused:
            self._answer(refused.status, {"error": refused.reason}, close=True)
            return
        name = match["name"]
        try:
            request = json.loads(self.rfile.read(length))
        except OSError:  # the client went away or stalled past READ_TIMEOUT
            self.close_connection = True
            return
        except (ValueError, RecursionError) as err:
            self._answer(400, {"error": f"the request is not JSON: {err}"})
            return
        try:
            if not isinstance(request, dict):
                raise ActionError("the request must be a JSON object")
            result = self.channel.dispatch(name, request)
        except ActionError as err:
            self._answer(err.status, {"error": str(err)})
        except Exception as err:
            LOG.exception("action %s failed", name)
            self._answer(500, {"error": f"internal error in {name}: {type(err).__name__}: {err}"})
        else:
            self._answer(200, {"result": result})

    def do_GET(self) -> None:
        self._answer(405, {"error": "use POST /actions/<name>"}, close=True)

    def _answer(self, status: int, body: dict[str, Any], close: bool = False) -> None:
        data = json.dumps(body, default=str).encode()
        if close:  # the body was not read: it must not be taken for a next request
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)


def write_token(state_dir: Path, token: str) -> Path:
    path = state_dir / TOKEN_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token)
    return path


def read_token(state_dir: Path) -> str:
    try:
        return (state_dir / TOKEN_FILE).read_text().strip()
    except OSError as err:
        raise SandboxError(
            f"cannot read the sandbox's control token in {state_dir}: {err.strerror} "
            "(is it a sandbox started by this user with this version?)"
        ) from None


def request(
    host: str, port: int, token: str, action: str, payload: dict[str, Any], timeout: float = 60.0
) -> Any:
    """Send one action; its result, or SandboxError with the server's message."""
    body = json.dumps(payload).encode()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(
            "POST",
            f"/actions/{action}",
            body,
            {"Content-Type": "application/json", TOKEN_HEADER: token},
        )
        response = conn.getresponse()
        data = response.read()
    except OSError as err:
        raise SandboxError(
            f"the sandbox's control channel on {host}:{port} does not answer: {err}"
        ) from None
    finally:
        conn.close()
    try:
        answer = json.loads(data)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise SandboxError(f"the sandbox's control channel answered {response.status} without JSON")
    if response.status != 200:
        raise SandboxError(str(answer.get("error") or f"{action} failed ({response.status})"))
    return answer.get("result")
