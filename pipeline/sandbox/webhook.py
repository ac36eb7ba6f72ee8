"""The registry's notification endpoint: every pushed manifest goes into ECR.

Answers 200 to every well-formed envelope, even when an event could not be
recorded: distribution retries a failed envelope forever, and one that can
never succeed (a manifest deleted before its event arrived) would hold back
every later event. Failures are logged instead.

The shared token is checked before the body is read, and a body is read only
when its Content-Length is declared and at most MAX_ENVELOPE bytes.
"""

from __future__ import annotations

import hmac
import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pipeline.sandbox import wire
from pipeline.sandbox.distribution import MANIFEST_TYPES, SYNC_AGENT, RegistryRefused
from pipeline.sandbox.serving import ServerThread
from pipeline.sandbox.sync import Bridge

LOG = logging.getLogger("pipeline.sandbox.webhook")
TOKEN_HEADER = "X-Sandbox-Token"  # noqa: S105 - a header name, not a secret
# distribution sends at most a few hundred events per envelope, about 1 KiB each.
MAX_ENVELOPE = 4 << 20
READ_TIMEOUT = 30.0


def handle(bridge: Bridge, event: dict[str, Any]) -> bool:
    """Record one event's manifest; False when the event is not ours to record."""
    target = event.get("target") or {}
    if event.get("action") != "push" or target.get("mediaType") not in MANIFEST_TYPES:
        return False
    if str((event.get("request") or {}).get("useragent", "")).startswith(SYNC_AGENT):
        return False  # the sandbox wrote this itself, from an ECR API call
    return bridge.pushed(target["repository"], target["digest"], target.get("tag") or None)


class Webhook:
    def __init__(self, bridge: Bridge, token: str, host: str, port: int) -> None:
        handler = type("Handler", (_Handler,), {"bridge": bridge, "token": token})
        self._serving = ServerThread(ThreadingHTTPServer((host, port), handler))

    @property
    def port(self) -> int:
        return int(self._serving.server.server_address[1])

    def start(self) -> Webhook:
        self._serving.start("webhook")
        return self

    def stop(self) -> None:
        self._serving.stop()


class _Handler(BaseHTTPRequestHandler):
    bridge: Bridge
    token: str
    timeout = READ_TIMEOUT  # socket timeout: a client that stalls frees its thread

    def log_message(self, format: str, *args: object) -> None:
        LOG.debug(format, *args)

    def do_GET(self) -> None:
        self._reply(200 if self.path == "/health" else 404)

    def do_POST(self) -> None:
        # Path and token first, then the declared length: nothing of the body is
        # read for a request that will be refused, so size costs nobody memory.
        if self.path != "/events":
            self._refuse(404)
            return
        given = self.headers.get(TOKEN_HEADER, "").encode("latin-1", "replace")
        if not hmac.compare_digest(given, self.token.encode()):
            self._refuse(403)
            return
        try:
            length = wire.content_length(self.headers, MAX_ENVELOPE)
        except wire.BodyRefused as refused:
            self._refuse(refused.status)
            return
        try:
            events = json.loads(self.rfile.read(length))["events"]
            if not isinstance(events, list):
                raise TypeError("events is not a list")
        except (ValueError, KeyError, TypeError):
            self._reply(400)
            return
        for event in events:
            if not isinstance(event, dict):
                continue
            try:
                handle(self.bridge, event)
            except (OSError, RegistryRefused, LookupError, TypeError, AttributeError) as err:
                LOG.warning("event %s not recorded: %s", event.get("id"), err)
        self._reply(200)

    def _refuse(self, status: int) -> None:
        """Answer without reading the body, and close: the unread body would be
        taken for the next request on this connection."""
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    def _reply(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
