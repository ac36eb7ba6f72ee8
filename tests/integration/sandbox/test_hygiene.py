"""The running sandbox's own safety: private state, a guarded control channel, a clean registry."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from pipeline.errors import SandboxError
from pipeline.sandbox import Sandbox, channel
from pipeline.sandbox.distribution import CHILD_ENVIRONMENT
from pipeline.sandbox.settings import HOST


def test_the_state_folder_and_the_token_are_ours_alone(sandbox_handle: Sandbox) -> None:
    assert stat.S_IMODE(sandbox_handle.dir.stat().st_mode) == 0o700
    token = sandbox_handle.dir / channel.TOKEN_FILE
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert len(token.read_text()) >= 32


def test_the_control_channel_wants_the_token(sandbox_handle: Sandbox) -> None:
    port = sandbox_handle.status().endpoints.ports.control  # type: ignore[union-attr]
    with pytest.raises(SandboxError, match="wrong or missing control token"):
        channel.request(HOST, port, "guessed", "fail-next/ecs", {"cluster": "c", "service": "s"})
    components = sandbox_handle.status().components
    assert any(c.name == "control channel" and c.answers for c in components)


def test_docker_registry_runs_with_a_scrubbed_environment(sandbox_handle: Sandbox) -> None:
    state = json.loads((sandbox_handle.dir / "state.json").read_text())
    raw = Path(f"/proc/{state['registry_pid']}/environ").read_bytes()
    names = {entry.split(b"=", 1)[0].decode() for entry in raw.split(b"\0") if entry}
    assert names <= set(CHILD_ENVIRONMENT)
