"""Start, inspect and stop a sandbox from outside: the Python API behind the CLI.

    box = Sandbox(tmp_dir)
    box.up()            # idempotent; raises SandboxError with the log tail
    env = box.env()     # AWS_ENDPOINT_URL, ..., PIPELINE_REGISTRY_HOST, KUBECONFIG
    box.act("fail-next/ecs", {"cluster": "c", "service": "s"})  # channel.py
    box.down()          # stops what it started, by PID, and removes tmp_dir

Stdlib only: moto and bcrypt are imported by the server process, not here.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pipeline
from pipeline.errors import SandboxError
from pipeline.sandbox import processes, settings
from pipeline.sandbox.channel import TOKEN_FILE
from pipeline.sandbox.server import STATE_FILE, tail
from pipeline.sandbox.settings import REGION, Endpoints, Ports

_MARKER = "# pipeline sandbox state: safe to delete with `pipeline sandbox down`\n*\n"
_SERVER_PID = "server.pid"
_SERVER_LOG = "server.log"


@dataclass(frozen=True)
class Up:
    started: bool  # False: it was running already
    endpoints: Endpoints


@dataclass(frozen=True)
class Component:
    name: str
    where: str
    pid: int | None
    answers: bool


@dataclass(frozen=True)
class Status:
    state_dir: Path
    running: bool
    started_at: str | None = None
    endpoints: Endpoints | None = None
    components: tuple[Component, ...] = ()


class Sandbox:
    def __init__(
        self,
        state_dir: str | os.PathLike[str] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.dir = settings.state_dir(state_dir)
        self._clock = clock
        self._sleep = sleep
        self._process: subprocess.Popen[bytes] | None = None

    # -- the API --------------------------------------------------------------

    def up(self, ports: Ports | None = None, region: str = REGION, timeout: float = 20.0) -> Up:
        with self._locked():
            state = self._live_state()
            if state is not None:
                return Up(False, _endpoints(state))
            self._stop_all()
            binary = settings.registry_binary()
            _check_python_packages()
            chosen = (ports or Ports.resolve()).allocate()
            self._spawn(chosen, region, binary)
            return Up(True, self._wait_ready(timeout))

    def env(self) -> dict[str, str]:
        state = self._live_state()
        if state is None:
            raise SandboxError(f"no sandbox runs in {self.dir}: run `pipeline sandbox up` first")
        return _endpoints(state).env()

    def act(self, action: str, request: dict[str, Any], timeout: float = 60.0) -> Any:
        """Send an action over the control channel (channel.py); its result."""
        from pipeline.sandbox import channel

        state = self._live_state()
        if state is None:
            raise SandboxError(f"no sandbox runs in {self.dir}: run `pipeline sandbox up` first")
        port = _endpoints(state).ports.control
        token = channel.read_token(self.dir)
        return channel.request(settings.HOST, port, token, action, request, timeout)

    def status(self) -> Status:
        state = self._live_state()
        if state is None:
            return Status(self.dir, running=False)
        endpoints = _endpoints(state)
        ports = endpoints.ports
        host = settings.HOST
        parts = (
            ("aws (moto)", endpoints.aws_url, None, ports.aws),
            ("registry (proxy)", endpoints.registry_host, None, ports.registry),
            ("docker-registry", f"{host}:{ports.upstream}", state["registry_pid"], ports.upstream),
            ("webhook", f"{host}:{ports.webhook}", None, ports.webhook),
            ("control channel", f"{host}:{ports.control}", None, ports.control),
            ("kubernetes API", endpoints.kube_url, None, ports.kube),
        )
        components = (
            Component("server", str(self.dir), int(state["pid"]), True),
            *(Component(n, w, pid, processes.answers(port)) for n, w, pid, port in parts),
        )
        return Status(self.dir, True, str(state.get("started_at")), endpoints, components)

    def down(self, timeout: float = 10.0) -> bool:
        """Stop everything this state folder started; True if something was running."""
        if not self.dir.exists():
            return False
        with self._locked():
            stopped = self._stop_all(timeout)
            shutil.rmtree(self.dir, ignore_errors=True)
        return stopped

    # -- the parts ------------------------------------------------------------

    def _spawn(self, ports: Ports, region: str, binary: str) -> None:
        command = [*server_command(), "--state-dir", str(self.dir)]
        command += ["--region", region, "--registry-bin", binary]
        for name, port in ports.as_dict().items():
            command += [Ports.flag(name), str(port)]
        # Importable from any working directory, installed or not.
        paths = [str(Path(pipeline.__file__).parent.parent), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
        with (self.dir / _SERVER_LOG).open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                env=env,
                start_new_session=True,  # a Ctrl-C in the terminal that ran `up` does not reach it
            )
        (self.dir / _SERVER_PID).write_text(str(self._process.pid))

    def _wait_ready(self, timeout: float) -> Endpoints:
        assert self._process is not None
        deadline = self._clock() + timeout
        while self._clock() < deadline:
            code = self._process.poll()
            if code is not None:
                self._stop_all()
                raise SandboxError(
                    f"the sandbox server exited with code {code} "
                    f"(log: {self.dir / _SERVER_LOG}):\n{tail(self.dir / _SERVER_LOG)}"
                )
            state = self._state()
            if state is not None and state.get("pid") == self._process.pid:
                return _endpoints(state)
            self._sleep(0.05)
        self._stop_all()
        raise SandboxError(
            f"the sandbox did not become ready within {timeout:.0f} s:\n"
            f"{tail(self.dir / _SERVER_LOG)}"
        )

    def _stop_all(self, timeout: float = 10.0) -> bool:
        state = self._state() or {}
        pid = state.get("pid") or _read_int(self.dir / _SERVER_PID)
        # The server stops its registry child; the second check covers a server
        # that was killed before it could.
        targets = [
            (pid, ("pipeline.sandbox.server", str(self.dir))),
            (state.get("registry_pid"), ("serve", str(self.dir / "registry.yml"))),
        ]
        stopped = False
        for target, marks in targets:
            if target and processes.alive(int(target), marks):
                processes.stop(int(target), marks, timeout, self._clock, self._sleep)
                stopped = True
        if self._process is not None:
            self._process.wait(timeout)  # reap our child so it leaves no zombie
            self._process = None
        for name in (STATE_FILE, _SERVER_PID, TOKEN_FILE):
            (self.dir / name).unlink(missing_ok=True)
        return stopped

    def _claim(self) -> None:
        """Create the folder, or make sure an existing one is a sandbox's (down deletes it)."""
        marker = self.dir / ".gitignore"  # also keeps the folder out of git wherever it is
        if self.dir.is_dir() and any(self.dir.iterdir()):
            if not marker.is_file() or marker.read_text() != _MARKER:
                raise SandboxError(
                    f"{self.dir} exists and is not a sandbox state folder: "
                    f"choose another with --dir or {settings.STATE_DIR_ENV}"
                )
            settings.make_private(self.dir)
            return
        settings.make_private(self.dir)
        marker.write_text(_MARKER)

    def _live_state(self) -> dict[str, Any] | None:
        state = self._state()
        if state is None:
            return None
        marks = ("pipeline.sandbox.server", str(self.dir))
        return state if processes.alive(int(state["pid"]), marks) else None

    def _state(self) -> dict[str, Any] | None:
        try:
            state: dict[str, Any] = json.loads((self.dir / STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        return state

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One `up` or `down` at a time per state folder (a lock on the folder itself)."""
        self._claim()
        fd = os.open(self.dir, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


# `python -m` would put the working directory, which is the state folder, first
# on the server's sys.path: a `moto.py` dropped there would run in the server.
# So the server starts with -c, and the first thing it does is drop that entry
# (and any other that names the folder) before it imports anything of ours.
_BOOTSTRAP = (
    "import os, sys; here = os.path.realpath(os.getcwd()); "
    "sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != here]; "
    "from pipeline.sandbox.server import main; sys.exit(main())"
)


def server_command() -> list[str]:
    """How the server process is started (its arguments follow)."""
    return [sys.executable, "-c", _BOOTSTRAP]


def _endpoints(state: dict[str, Any]) -> Endpoints:
    kubeconfig = state.get("kubeconfig")
    return Endpoints(
        Ports(**state["ports"]),
        str(state["region"]),
        str(state["account"]),
        str(kubeconfig) if kubeconfig else None,
    )


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _check_python_packages() -> None:
    wanted = ("moto", "bcrypt", "werkzeug", "cryptography")
    missing = [m for m in wanted if importlib.util.find_spec(m) is None]
    if missing:
        raise SandboxError(
            f"the sandbox needs {', '.join(missing)}: pip install 'pipeline-release[sandbox]'"
        )
