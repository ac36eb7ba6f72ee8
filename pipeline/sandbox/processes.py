"""Our own processes, found and stopped by PID, never by name.

A PID is only trusted while /proc says its command line still carries the
marks we started it with (the state folder's path), so a PID reused by an
unrelated process after a reboot or crash is never signalled.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from collections.abc import Callable, Sequence
from pathlib import Path

from pipeline.sandbox.settings import HOST


def alive(pid: int, marks: Sequence[str]) -> bool:
    _reap(pid)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        if Path("/proc/self").exists():
            return False  # no such process (or a zombie: its cmdline reads empty)
        return _exists(pid)  # no /proc (macOS): the PID alone has to do
    return bool(cmdline) and all(mark.encode() in cmdline for mark in marks)


def stop(
    pid: int,
    marks: Sequence[str],
    timeout: float,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> None:
    """SIGTERM, then SIGKILL once `timeout` has passed."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return
        deadline = clock() + timeout
        while clock() < deadline:
            if not alive(pid, marks):
                return
            sleep(0.05)


def answers(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def _reap(pid: int) -> None:
    """Collect the exit status if it is our child, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
