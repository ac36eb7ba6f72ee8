"""Running a socketserver-style server in a daemon thread, for the sandbox's servers."""

from __future__ import annotations

import threading
from typing import Any

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
