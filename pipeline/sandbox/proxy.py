"""A small threaded, streaming HTTP/1.1 reverse proxy with per-request hooks.

The sandbox puts it in front of docker-registry to add what ECR does and the
registry does not (see ecr_rules.py); the tests put it in front of anything to
inject faults (tests/faults.py). Bodies are streamed in chunks both ways
(relay.py), so a 150 MB layer costs a buffer, not its size.

A hook's `before` may answer instead of forwarding (`Answer`), drop the
connection with a TCP reset (`Reset`), or hold the request first (`Stall`);
`after` sees the upstream status and headers before the client does, so a hook
can delay the answer until a side effect has landed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from pipeline.sandbox.relay import Server, handler_for
from pipeline.sandbox.serving import ServerThread
from pipeline.sandbox.verdicts import Hook


class ReverseProxy:
    """`ReverseProxy("127.0.0.1:5000", [hook]).start()`; `.address` is where it listens."""

    def __init__(
        self,
        upstream: str,
        hooks: Sequence[Hook] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 300.0,
    ) -> None:
        self.upstream = upstream
        self.hooks = tuple(hooks)
        self.sleep = sleep
        self.timeout = timeout
        # Binds now, so a taken port fails here and not in a background thread.
        self._server = Server((host, port), handler_for(self, timeout))
        self._serving = ServerThread(self._server)

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> ReverseProxy:
        self._serving.start(f"proxy-{self.address}")
        return self

    def stop(self) -> None:
        self._serving.stop()
        self._server.drop_connections()

    def __enter__(self) -> ReverseProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
