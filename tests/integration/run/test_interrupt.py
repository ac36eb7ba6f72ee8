"""Ctrl-C while an image is being pushed: exit 130, nothing half-done left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.sandbox.proxy import ReverseProxy
from pipeline.sandbox.verdicts import Request
from tests.faults import STALL, Faults
from tests.integration.run.support import (
    Project,
    Registry,
    Token,
    ecr_config,
    files_containing,
    listed,
    pipeline_argv,
)


class StalledWrites:
    """Holds every blob upload and manifest PUT until released; says when the first came."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def applies(self, request: Request) -> bool:
        write = request.method in ("POST", "PATCH", "PUT") and (
            "/blobs/uploads" in request.path or "/manifests/" in request.path
        )
        if write:
            self.started.set()
        return write


@pytest.fixture
def stalled(sandbox: dict[str, str]) -> Iterator[tuple[StalledWrites, ReverseProxy]]:
    writes = StalledWrites()
    faults = Faults(share=1.0, kinds=(STALL,), stall_seconds=30, applies=writes.applies)
    proxy = ReverseProxy(sandbox["PIPELINE_REGISTRY_HOST"], [faults], sleep=writes.release.wait)
    with proxy:
        yield writes, proxy
        writes.release.set()


def _session_members(sid: int) -> list[str]:
    """Processes still in the session the CLI led (its children inherit it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid:  # state ppid pgrp session ...
            found.append(f"{entry.name}: {cmdline}")
    return found


@dataclass
class Interrupted:
    code: int
    seconds: float  # from the signal to the exit
    output: str
    pid: int


def _interrupt(
    project: Project,
    env: dict[str, str],
    report: Path,
    ready: Callable[[Path], bool],
    *,
    group: bool,
) -> Interrupted:
    """Runs the pipeline, and sends SIGINT once `ready(log)` (bounded: 60 s)."""
    log = report.with_suffix(".log")
    with log.open("w") as out:
        process = subprocess.Popen(
            pipeline_argv("-v", "run", "--only", "build,push", "--report", str(report)),
            cwd=project.root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
        try:
            deadline = time.monotonic() + 60
            while not ready(log):
                assert time.monotonic() < deadline and process.poll() is None, log.read_text()
                time.sleep(0.05)
            if group:
                os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
            else:
                os.kill(process.pid, signal.SIGINT)  # a CI runner's cancel, or kill -INT
            started = time.monotonic()
            code = process.wait(timeout=30)
            took = time.monotonic() - started
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    return Interrupted(code, took, log.read_text(), process.pid)


def test_ctrl_c_during_push(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    registry: Registry,
    token: Token,
    tmp_path: Path,
    stalled: tuple[StalledWrites, ReverseProxy],
) -> None:
    writes, proxy = stalled
    project = make_project("app")
    project.write("Dockerfile", "FROM local/busybox:1\nRUN echo interrupted > /name\n")
    repo = f"{prefix}/app"
    project.config(ecr_config([{"name": "app", "repository": repo}]))
    project.commit("first")
    report = tmp_path / "report.json"

    run = _interrupt(
        project,
        {**env, "PIPELINE_REGISTRY_HOST": proxy.address},
        report,
        lambda _log: writes.started.is_set(),  # an upload reached the registry and stalls
        group=True,
    )

    assert run.code == 130, run.output
    assert run.seconds < 5, (run.seconds, run.output)
    assert "interrupted" in run.output
    assert _session_members(run.pid) == []
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["status"] == "failed"
    assert not {"main", "latest"} & set(registry.tags(repo))
    assert files_containing([tmp_path], token.values) == []


def test_sigint_during_build_stops_the_build_client(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
    token: Token,
    tmp_path: Path,
) -> None:
    project = make_project("app")
    project.write("Dockerfile", "FROM local/busybox:1\nARG NONCE\nRUN echo $NONCE && sleep 30\n")
    repo = f"{prefix}/app"
    project.config(
        ecr_config(
            [{"name": "app", "repository": repo, "build_args": {"NONCE": os.urandom(6).hex()}}]
        )
    )
    project.commit("first")
    report = tmp_path / "report.json"

    # Only our process gets the signal: the docker build client must be stopped by us.
    run = _interrupt(
        project,
        {**env, "PIPELINE_BUILDER": "buildkit"},
        report,
        lambda log: "sleep 30" in log.read_text(),
        group=False,
    )

    assert run.code == 130, run.output
    assert run.seconds < 5, (run.seconds, run.output)
    assert _session_members(run.pid) == []
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["status"] == "failed"
    assert listed(ecr, repo) == []
    assert files_containing([tmp_path], token.values) == []
