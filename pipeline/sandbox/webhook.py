"""The registry's notification endpoint: every pushed manifest goes into ECR.

Answers 200 to every well-formed envelope, even when an event could not be
recorded: distribution retries a failed envelope forever, and one that can
never succeed (a manifest deleted before its event arrived) would hold back
every later event. Failures are logged instead.
"""

from __future__ import annotations

import hmac
import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pipeline.sandbox.distribution import MANIFEST_TYPES, SYNC_AGENT, RegistryRefused
from pipeline.sandbox.serving import ServerThread
from pipeline.sandbox.sync import Bridge

LOG = logging.getLogger("pipeline.sandbox.webhook")
TOKEN_HEADER = "X-Sandbox-Token"  # noqa: S105 - a header name, not a secret


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

    def log_message(self, format: str, *args: object) -> None:
        LOG.debug(format, *args)

    def do_GET(self) -> None:
        self._reply(200 if self.path == "/health" else 404)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/events":
            self._reply(404)
            return
        if not hmac.compare_digest(self.headers.get(TOKEN_HEADER, ""), self.token):
            self._reply(403)
            return
        try:
            events = json.loads(body)["events"]
        except (ValueError, KeyError, TypeError):
            self._reply(400)
            return
        for event in events:
            try:
                handle(self.bridge, event)
            except (OSError, RegistryRefused, LookupError) as err:
                LOG.warning("event %s not recorded: %s", event.get("id"), err)
        self._reply(200)

    def _reply(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
