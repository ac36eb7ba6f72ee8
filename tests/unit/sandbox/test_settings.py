"""Ports, state folder and the registry binary: precedence, free ports, clear errors."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pipeline.errors import SandboxError
from pipeline.sandbox import settings
from pipeline.sandbox.settings import Endpoints, Ports


def test_flags_win_over_env_which_wins_over_defaults() -> None:
    env = {"PIPELINE_SANDBOX_AWS_PORT": "6000", "PIPELINE_SANDBOX_WEBHOOK_PORT": "6003"}
    ports = Ports.resolve({"aws": 7000, "registry": None}, env)
    assert ports == Ports(aws=7000, registry=5101, upstream=5102, webhook=6003)


def test_a_bad_port_names_its_setting() -> None:
    with pytest.raises(SandboxError, match="PIPELINE_SANDBOX_REGISTRY_PORT/--registry-port"):
        Ports.resolve(env={"PIPELINE_SANDBOX_REGISTRY_PORT": "http"})


def test_allocate_picks_distinct_free_ports() -> None:
    ports = Ports.free().allocate()
    chosen = list(ports.as_dict().values())
    assert len(set(chosen)) == len(chosen) == len(Ports().as_dict())
    assert all(settings.port_free(p) for p in chosen)


def test_allocate_names_a_taken_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SandboxError, match=f"port {port} .* aws .*--aws-port or PIPELINE_"):
            Ports(aws=port, registry=0, upstream=0, webhook=0).allocate()


def test_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PIPELINE_SANDBOX_DIR", raising=False)
    assert settings.state_dir() == tmp_path / ".sandbox"
    monkeypatch.setenv("PIPELINE_SANDBOX_DIR", "elsewhere")
    assert settings.state_dir() == tmp_path / "elsewhere"
    assert settings.state_dir("given") == tmp_path / "given"


@pytest.mark.parametrize(
    ("apt", "hint"),
    [(True, "apt-get install docker-registry"), (False, "CNCF distribution registry")],
)
def test_a_missing_registry_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, apt: bool, hint: str
) -> None:
    monkeypatch.delenv("PIPELINE_SANDBOX_REGISTRY_BIN", raising=False)
    found = {"apt-get": "/usr/bin/apt-get"} if apt else {}
    monkeypatch.setattr(settings.shutil, "which", found.get)
    with pytest.raises(SandboxError, match=hint):
        settings.registry_binary()


def test_registry_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPELINE_SANDBOX_REGISTRY_BIN", "/nowhere/registry")
    with pytest.raises(SandboxError, match="/nowhere/registry: no such executable"):
        settings.registry_binary()
    monkeypatch.setenv("PIPELINE_SANDBOX_REGISTRY_BIN", "/bin/sh")
    assert settings.registry_binary() == "/bin/sh"


def test_endpoints_env() -> None:
    env = Endpoints(Ports(aws=1, registry=2, upstream=3, webhook=4), "eu-west-1").env()
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
    assert env["PIPELINE_REGISTRY_HOST"] == "127.0.0.1:2"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_ACCOUNT_ID"] == "123456789012"
    assert "KUBECONFIG" not in env


def test_a_state_folder_is_made_private(tmp_path: Path) -> None:
    fresh = tmp_path / "new" / "state"
    settings.make_private(fresh)
    assert fresh.stat().st_mode & 0o777 == 0o700
    opened = tmp_path / "opened"
    opened.mkdir(mode=0o755)
    opened.chmod(0o755)
    settings.make_private(opened)
    assert opened.stat().st_mode & 0o777 == 0o700


def test_a_state_folder_of_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o755)
    theirs.chmod(0o755)
    monkeypatch.setattr(settings.os, "getuid", lambda: theirs.stat().st_uid + 1)
    with pytest.raises(SandboxError, match="belongs to another user"):
        settings.make_private(theirs)
    assert theirs.stat().st_mode & 0o777 == 0o755  # left as it was


def test_free_ports_avoid_the_ephemeral_range(tmp_path: Path) -> None:
    """Ports for port 0 are also outgoing connections' source ports: a race with any client."""
    low, high = settings._quiet_range()
    for port in Ports.free().allocate().as_dict().values():
        assert low <= port <= high
    ranges = tmp_path / "ip_local_port_range"
    ranges.write_text("32768\t60999\n")
    assert settings._quiet_range(ranges) == (16384, 32767)
    assert settings._quiet_range(tmp_path / "missing") == (24576, 49151)


def test_endpoints_env_exports_the_kubeconfig_and_names_the_kube_url() -> None:
    endpoints = Endpoints(Ports(kube=7), kubeconfig="/state/kubeconfig")
    assert endpoints.env()["KUBECONFIG"] == "/state/kubeconfig"
    assert endpoints.kube_url == "https://127.0.0.1:7"
