"""Daemon threads for the sandbox: its socketserver-style servers, and a ticker."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

LOG = logging.getLogger("pipeline.sandbox.serving")

POLL = 0.05  # how soon a server notices stop(); socketserver waits 0.5 s by default


class ServerThread:
    """The moto server, the webhook and the proxy each serve from one of these."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self._thread: threading.Thread | None = None

    def start(self, name: str) -> None:
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(POLL,), name=name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
            self._thread = None
        self.server.server_close()


class Ticker:
    """Calls `tick` every `interval` seconds from a daemon thread until stopped.

    The ECS rollouts move on this thread (rollouts.py); a failing tick is
    logged and the next one runs, so one bad step cannot freeze every service.
    """

    def __init__(self, tick: Callable[[], None], interval: float = 0.1, name: str = "ticker"):
        self._tick = tick
        self._interval = interval
        self._name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Ticker:
        self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._tick()
            except Exception:
                LOG.exception("%s: a tick failed", self._name)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
