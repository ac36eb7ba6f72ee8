"""The sandbox server process: `python -m pipeline.sandbox.server --state-dir DIR ...`.

`pipeline sandbox up` starts it in the background. It runs, in one process so
they can share state: docker-registry (a child process), moto with the
sandbox's ECR scanning (scans.py) and ECS rollouts (rollouts.py), the registry
webhook, the front proxy, the Kubernetes API emulation (kube/), and the control
channel (channel.py) through which `pipeline sandbox findings` and `fail-next`
reach those services. Once everything answers it writes the control token
(0600), the kubeconfig and state.json (pids and ports, never the registry
password, which lives only in this process's memory) and serves until SIGTERM
or SIGINT.

The state folder must be ours and private (settings.make_private), and is
never on sys.path (control.server_command).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pipeline.errors import SandboxError
from pipeline.sandbox import distribution
from pipeline.sandbox.settings import ACCOUNT, HOST, KUBECONFIG_FILE, REGION, Ports, make_private

LOG = logging.getLogger("pipeline.sandbox.server")
STATE_FILE = "state.json"
_READY_TIMEOUT = 15.0
# bcrypt's cheapest cost: the registry checks the hash on every request, and it
# only guards a loopback port with a random password nobody types.
_BCRYPT_ROUNDS = 4


class Service(Protocol):
    """What runs in the server. The Kubernetes API emulation joins as one more."""

    def stop(self) -> None: ...


S = TypeVar("S", bound=Service)


class StartError(Exception):
    """A part of the sandbox could not start; the message says which and why."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    state_dir = Path(args.state_dir)
    ports = Ports(**{name: getattr(args, f"{name}_port") for name in Ports().as_dict()})
    services: list[Service] = []
    try:
        registry = _start(state_dir, ports, args.region, args.registry_bin, services)
        LOG.info("ready: %s", json.dumps(ports.as_dict()))
        while not stop.wait(1.0):
            if registry.poll() is not None:
                LOG.error("docker-registry exited with code %s", registry.returncode)
                return 1
        return 0
    except StartError as err:
        LOG.error("%s", err)
        return 1
    finally:
        for service in reversed(services):
            service.stop()


def _start(
    state_dir: Path, ports: Ports, region: str, binary: str, services: list[Service]
) -> subprocess.Popen[bytes]:
    import bcrypt

    from pipeline.sandbox.aws import MotoServer, patch_ecr
    from pipeline.sandbox.aws_ecs import patch_ecs
    from pipeline.sandbox.aws_scans import conform, patch_scans
    from pipeline.sandbox.channel import Channel, write_token
    from pipeline.sandbox.distribution import DistributionClient
    from pipeline.sandbox.ecr import EcrState
    from pipeline.sandbox.ecr_rules import EcrRules
    from pipeline.sandbox.proxy import ReverseProxy
    from pipeline.sandbox.rollouts import Rollouts, Timing
    from pipeline.sandbox.scans import Scanner
    from pipeline.sandbox.serving import Ticker
    from pipeline.sandbox.sync import Bridge
    from pipeline.sandbox.webhook import Webhook

    try:
        make_private(state_dir)
        timing = Timing.from_env()
    except (SandboxError, ValueError) as err:
        raise StartError(str(err)) from err

    # moto's state starts empty, so the registry's must too: images left by a
    # crashed earlier run would be pullable while ECR lists none of them.
    shutil.rmtree(distribution.storage_root(state_dir), ignore_errors=True)
    password = secrets.token_urlsafe(32)  # the ECR token's password; memory only
    token = secrets.token_urlsafe(16)  # the webhook's shared secret with the registry
    control_token = secrets.token_urlsafe(32)  # the control channel's, for our user only
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=_BCRYPT_ROUNDS)).decode()
    config = distribution.write_config(
        state_dir, ports.upstream, f"http://{HOST}:{ports.webhook}/events", token, hashed
    )
    # First, before any thread exists: the child is tied to us with PDEATHSIG.
    registry = distribution.spawn(binary, config, state_dir / "registry.log")
    services.append(_Child(registry))
    upstream = f"{HOST}:{ports.upstream}"
    client = DistributionClient(upstream, password, distribution.storage_root(state_dir))
    bridge = Bridge(EcrState(ACCOUNT, region), client)
    patch_ecr(bridge, password)
    scanner = Scanner(bridge.ecr, bridge.lock, conform=conform)
    bridge.on_new_image.append(scanner.pushed)  # scan on push
    patch_scans(scanner)
    rollouts = Rollouts(account=ACCOUNT, region=region, timing=timing)
    patch_ecs(rollouts)
    services.append(Ticker(rollouts.tick, name="ecs-rollouts").start())
    services.append(_listen("aws", ports.aws, lambda: MotoServer(HOST, ports.aws).start()))
    services.append(
        _listen(
            "webhook", ports.webhook, lambda: Webhook(bridge, token, HOST, ports.webhook).start()
        )
    )
    rules = EcrRules(bridge, password)
    services.append(
        _listen(
            "registry",
            ports.registry,
            lambda: ReverseProxy(upstream, [rules], host=HOST, port=ports.registry).start(),
        )
    )
    channel = _listen("control", ports.control, lambda: Channel(control_token, HOST, ports.control))
    services.append(channel.start())
    channel.actions["findings"] = scanner.script
    channel.actions["fail-next/ecs"] = rollouts.fail_next
    channel.actions["fail-next/eks"] = _start_kube(state_dir, ports, services)
    write_token(state_dir, control_token)
    _wait_for_registry(client, registry, state_dir / "registry.log")
    _write_state(state_dir, ports, region, registry.pid)
    return registry


def _start_kube(
    state_dir: Path, ports: Ports, services: list[Service]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The Kubernetes API emulation, which every EKS cluster in moto points at;
    returns its fail-next action for the control channel."""
    from pipeline.sandbox.channel import ActionError
    from pipeline.sandbox.kube.actions import fail_next_action
    from pipeline.sandbox.kube.api import KubeApi
    from pipeline.sandbox.kube.eks import patch_eks

    kube = _listen("kube", ports.kube, lambda: KubeApi(HOST, ports.kube).start())
    services.append(kube)
    patch_eks(kube.url, kube.ca_data)
    kube.write_kubeconfig(state_dir / KUBECONFIG_FILE)
    return fail_next_action(kube, ActionError)


def _listen(name: str, port: int, start: Callable[[], S]) -> S:
    try:
        return start()
    except OSError as err:
        if err.errno == errno.EADDRINUSE:
            raise StartError(
                f"port {port} for the sandbox's {name} is already in use: choose another with "
                f"{Ports.flag(name)} or {Ports.env_name(name)}"
            ) from err
        raise StartError(f"the sandbox's {name} cannot listen on {HOST}:{port}: {err}") from err


def _wait_for_registry(
    client: distribution.DistributionClient, process: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartError(f"docker-registry exited with code {process.returncode}:\n{tail(log)}")
        try:
            if client.ping() == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise StartError(f"docker-registry did not answer within {_READY_TIMEOUT:.0f} s:\n{tail(log)}")


def _write_state(state_dir: Path, ports: Ports, region: str, registry_pid: int) -> None:
    state = {
        "pid": os.getpid(),
        "registry_pid": registry_pid,
        "ports": ports.as_dict(),
        "region": region,
        "account": ACCOUNT,
        "kubeconfig": str(state_dir / KUBECONFIG_FILE),
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    scratch = state_dir / f".{STATE_FILE}.tmp"
    scratch.write_text(json.dumps(state, indent=2))
    os.replace(scratch, state_dir / STATE_FILE)  # readers never see half a file


class _Child:
    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"({path} is missing)"
    return "\n".join(text.splitlines()[-lines:])


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m pipeline.sandbox.server")
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--region", default=REGION)
    parser.add_argument("--registry-bin", default="docker-registry")
    defaults = Ports()
    for name, port in defaults.as_dict().items():
        parser.add_argument(f"--{name}-port", type=int, default=port)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
