"""`pipeline sandbox up|env|status|down`: idempotence, clean-up, and failing loudly."""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.errors import SandboxError
from pipeline.sandbox import Ports, Sandbox
from pipeline.sandbox.cli import sandbox as cli
from pipeline.sandbox.processes import alive
from pipeline.sandbox.settings import port_free
from tests.integration.sandboxes import aws_client

ENV_NAMES = {
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ACCOUNT_ID",
    "PIPELINE_REGISTRY_HOST",
    "KUBECONFIG",
}


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "state"
    monkeypatch.setenv("PIPELINE_SANDBOX_DIR", str(folder))
    for name in Ports().as_dict():
        monkeypatch.setenv(Ports.env_name(name), "0")  # free ports, chosen at `up`
    return folder


def _exports(output: str) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in output.splitlines())
    return {name: value for name, value in pairs}


def _wait_gone(pid: int, marks: tuple[str, ...]) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not alive(pid, marks):
            return True
        time.sleep(0.05)
    return False


def _ours(state_dir: Path) -> list[int]:
    """Processes whose command line names the state folder (the server, the registry)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and str(state_dir).encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def test_up_env_status_down(state_dir: Path) -> None:
    runner = CliRunner()
    started = runner.invoke(cli, ["up"])
    assert started.exit_code == 0, started.output
    assert f"sandbox started in {state_dir}" in started.output
    state = json.loads((state_dir / "state.json").read_text())

    again = runner.invoke(cli, ["up"])
    assert again.exit_code == 0, again.output
    assert "already running" in again.output
    assert json.loads((state_dir / "state.json").read_text()) == state

    exports = _exports(runner.invoke(cli, ["env"]).output)
    assert set(exports) == ENV_NAMES
    assert exports["PIPELINE_REGISTRY_HOST"] == f"127.0.0.1:{state['ports']['registry']}"
    assert exports["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{state['ports']['aws']}"
    assert exports["KUBECONFIG"] == str(state_dir / "kubeconfig")
    assert (state_dir / "kubeconfig").stat().st_mode & 0o077 == 0
    status = runner.invoke(cli, ["status"])
    assert status.exit_code == 0
    assert f"pid {state['registry_pid']}" in status.output
    assert f"https://127.0.0.1:{state['ports']['kube']}" in status.output
    assert "NOT ANSWERING" not in status.output

    # The password lives in the server's memory only, never in the state folder.
    ecr = aws_client(exports, "ecr")
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = __import__("base64").b64decode(token).decode().partition(":")[2]
    for path in state_dir.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path

    stopped = runner.invoke(cli, ["down"])
    assert stopped.exit_code == 0, stopped.output
    assert "stopped" in stopped.output
    assert not state_dir.exists()
    assert _ours(state_dir) == []
    assert all(port_free(port) for port in state["ports"].values())

    assert "no sandbox was running" in runner.invoke(cli, ["down"]).output
    assert runner.invoke(cli, ["status"]).exit_code == 1
    failed = runner.invoke(cli, ["env"])
    assert isinstance(failed.exception, SandboxError)
    assert "pipeline sandbox up" in str(failed.exception)


def test_a_killed_server_takes_the_registry_along_and_up_starts_afresh(state_dir: Path) -> None:
    box = Sandbox()
    try:
        assert box.up().started
        state = json.loads((state_dir / "state.json").read_text())
        leftover = state_dir / "registry-data" / "docker" / "leftover"
        leftover.parent.mkdir(parents=True, exist_ok=True)
        leftover.write_text("an image ECR would not know about after the restart")
        os.kill(state["pid"], signal.SIGKILL)
        assert _wait_gone(state["registry_pid"], (str(state_dir),))
        assert not box.status().running
        again = box.up()
        assert again.started
        assert json.loads((state_dir / "state.json").read_text())["pid"] != state["pid"]
        assert not leftover.exists()  # a fresh ECR gets a fresh registry
    finally:
        box.down()
    assert not state_dir.exists()


def test_a_taken_port_is_named(state_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        box = Sandbox()
        with pytest.raises(
            SandboxError, match=f"port {port} for the sandbox's webhook.*--webhook-port"
        ):
            box.up(Ports(aws=0, registry=0, upstream=0, webhook=port))
    box.down()


def test_a_failing_start_says_why_and_leaves_nothing_running(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPELINE_SANDBOX_REGISTRY_BIN", "/bin/false")
    box = Sandbox()
    with pytest.raises(SandboxError, match=r"exited with code 1[\s\S]*docker-registry exited"):
        box.up()
    assert not (state_dir / "state.json").exists()
    assert _ours(state_dir) == []
    box.down()
