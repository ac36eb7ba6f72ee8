"""The ticker that moves the ECS rollouts: it keeps ticking through a failing tick."""

from __future__ import annotations

import threading

from pipeline.sandbox.serving import Ticker


def test_the_ticker_survives_a_failing_tick_and_stops() -> None:
    calls: list[int] = []
    enough = threading.Event()

    def tick() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("a bad step")
        if len(calls) >= 3:
            enough.set()

    ticker = Ticker(tick, interval=0.001).start()
    assert enough.wait(timeout=10)
    ticker.stop()
    stopped_at = len(calls)
    assert stopped_at >= 3
    assert not any(t.name == "ticker" for t in threading.enumerate())
    assert len(calls) == stopped_at
