"""The dependency-aware pool: order, blocking on failure, bounded concurrency."""

from __future__ import annotations

import threading

import pytest

from pipeline import parallel


def test_dependencies_finish_before_dependents_start() -> None:
    order: list[str] = []
    lock = threading.Lock()

    def job(name: str) -> str:
        with lock:
            order.append(name)
        return name.upper()

    out = parallel.run(["app", "base", "web"], {"app": ["base"], "web": ["app"]}, job, workers=4)
    assert order.index("base") < order.index("app") < order.index("web")
    assert {n: o.value for n, o in out.items()} == {"app": "APP", "base": "BASE", "web": "WEB"}
    assert list(out) == ["app", "base", "web"]


def test_a_failed_dependency_blocks_its_dependents_only() -> None:
    def job(name: str) -> str:
        if name == "base":
            raise RuntimeError("boom")
        return name

    out = parallel.run(["base", "app", "other"], {"app": ["base"]}, job, workers=2)
    assert isinstance(out["base"].error, RuntimeError)
    assert out["app"].blocked_by == "base"
    assert out["other"].ok


def test_dependencies_outside_the_selection_are_ignored() -> None:
    out = parallel.run(["app"], {"app": ["base"]}, lambda n: n, workers=1)
    assert out["app"].value == "app"


def test_concurrency_is_bounded() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()
    gate = threading.Event()

    def job(name: str) -> None:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        gate.wait(0.05)
        with lock:
            active -= 1

    parallel.run([f"i{n}" for n in range(8)], {}, job, workers=3)
    assert peak <= 3


def test_ctrl_c_reaches_the_waiting_main_thread_and_calls_the_hook() -> None:
    import os
    import signal

    release = threading.Event()
    called: list[str] = []

    def job(name: str) -> None:
        # Ctrl-C while a job runs: the signal goes to the main thread, which is waiting.
        threading.Timer(0.1, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        release.wait(5)

    def hook() -> None:
        called.append("interrupted")
        release.set()

    with pytest.raises(KeyboardInterrupt):
        parallel.run(["a"], {}, job, workers=1, on_interrupt=hook)
    assert called == ["interrupted"]


def test_a_keyboard_interrupt_raised_in_a_job_stops_the_run_like_ctrl_c() -> None:
    called: list[str] = []

    def job(name: str) -> None:
        if name == "b":
            raise KeyboardInterrupt
        raise RuntimeError(f"{name} failed")  # an ordinary failure stays the job's own

    with pytest.raises(KeyboardInterrupt):
        parallel.run(["a", "b"], {}, job, workers=2, on_interrupt=lambda: called.append("hook"))
    assert called == ["hook"]
