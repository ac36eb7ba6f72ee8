"""Finding and stopping our own processes by PID, with the clock injected."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys

import pytest

from pipeline.sandbox.processes import alive, answers, stop

_IGNORES_TERM = (
    "import signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)


_SLEEPS = "print('ready', flush=True); import time; time.sleep(60)"


def _spawn(code: str, mark: str) -> subprocess.Popen[str]:
    """A child that has exec'd (its command line shows `mark`) before we look at it."""
    child = subprocess.Popen([sys.executable, "-c", code, mark], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline() == "ready\n"
    return child


def _ticking(step: float) -> object:
    counter = itertools.count()
    return lambda: next(counter) * step


def test_alive_needs_the_marks() -> None:
    child = _spawn(_SLEEPS, "mark-1")
    try:
        assert alive(child.pid, ("mark-1",))
        assert not alive(child.pid, ("mark-1", "another-folder"))  # a reused PID is not ours
    finally:
        child.kill()
        child.wait()
        child.stdout.close()  # type: ignore[union-attr]
    assert not alive(child.pid, ("mark-1",))


def test_stop_terminates() -> None:
    child = _spawn(_SLEEPS, "mark-2")
    stop(child.pid, ("mark-2",), 5.0, _ticking(0.001), lambda _: None)  # type: ignore[arg-type]
    child.wait(timeout=5)
    assert not alive(child.pid, ("mark-2",))
    child.stdout.close()  # type: ignore[union-attr]


def test_stop_kills_what_ignores_sigterm(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[int] = []
    real_kill = os.kill

    def kill(pid: int, signum: int) -> None:
        sent.append(signum)
        real_kill(pid, signum)

    monkeypatch.setattr(os, "kill", kill)
    child = _spawn(_IGNORES_TERM, "mark-3")
    stop(child.pid, ("mark-3",), 5.0, _ticking(1.0), lambda _: None)  # type: ignore[arg-type]
    # stop() reaps its own children, so the exit status may be gone: check what it
    # did, and that the process goes (SIGKILL takes a moment on a busy machine).
    assert sent[:2] == [signal.SIGTERM, signal.SIGKILL]
    child.wait(timeout=5)
    assert not alive(child.pid, ("mark-3",))
    child.stdout.close()  # type: ignore[union-attr]


def test_answers() -> None:
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert answers(port)
    assert not answers(port)
