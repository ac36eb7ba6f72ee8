"""Finding and stopping our own processes by PID, with the clock injected."""

from __future__ import annotations

import itertools
import subprocess
import sys

from pipeline.sandbox.processes import alive, answers, stop

_IGNORES_TERM = (
    "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


def _ticking(step: float) -> object:
    counter = itertools.count()
    return lambda: next(counter) * step


def test_alive_needs_the_marks() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "mark-1"])
    try:
        assert alive(child.pid, ("mark-1",))
        assert not alive(child.pid, ("mark-1", "another-folder"))  # a reused PID is not ours
    finally:
        child.kill()
        child.wait()
    assert not alive(child.pid, ("mark-1",))


def test_stop_terminates() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "mark-2"])
    stop(child.pid, ("mark-2",), 5.0, _ticking(0.001), lambda _: None)  # type: ignore[arg-type]
    assert child.wait(timeout=5) == -15


def test_stop_kills_what_ignores_sigterm() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _IGNORES_TERM, "mark-3"], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    stop(child.pid, ("mark-3",), 5.0, _ticking(1.0), lambda _: None)  # type: ignore[arg-type]
    assert child.wait(timeout=5) == -9
    child.stdout.close()


def test_answers() -> None:
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert answers(port)
    assert not answers(port)
