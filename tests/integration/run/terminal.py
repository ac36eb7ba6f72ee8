"""A real terminal for the tests: a tmux pane, read back as a person sees it."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest


class Pane:
    """A tmux session of its own (own socket), 120 columns by 50 lines."""

    def __init__(self, tmux: str, root: Path) -> None:
        self.tmux = tmux
        self.socket = f"pipeline-test-{uuid.uuid4().hex[:8]}"
        self.root = root

    def run(self, script: Path) -> None:
        self._tmux("new-session", "-d", "-x", "120", "-y", "50", "-s", "run", f"bash {script}")

    def capture(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "run").stdout

    def close(self) -> None:
        subprocess.run([self.tmux, "-L", self.socket, "kill-server"], check=False)

    def _tmux(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.tmux, "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )

    def watch(
        self, argv: Sequence[str], env: Mapping[str, str], cwd: Path, timeout: float = 240
    ) -> tuple[list[str], str, int]:
        """Run `argv` in the pane; every screen seen while it ran, the last one, its exit code."""
        done = self.root / f"exit-{uuid.uuid4().hex[:6]}"
        exports = "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())
        script = self.root / f"run-{uuid.uuid4().hex[:6]}.sh"
        script.write_text(
            f"{exports}\nexport TERM=xterm-256color\ncd {shlex.quote(str(cwd))}\n"
            f"{shlex.join(argv)}\necho $? > {shlex.quote(str(done))}\nsleep 600\n"
        )
        self.run(script)
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while not done.exists() and time.monotonic() < deadline:
            seen.append(self.capture())
            time.sleep(0.2)
        assert done.exists(), seen[-1] if seen else "no screen"
        time.sleep(0.3)  # the last lines reach the pane
        return seen, self.capture(), int(done.read_text().strip())


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[Pane]:
    tmux = shutil.which("tmux")
    assert tmux, "tmux is not installed: `make services` (scripts/services.sh) installs it"
    made = Pane(tmux, tmp_path)
    yield made
    made.close()
