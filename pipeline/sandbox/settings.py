"""Where the sandbox listens and keeps its state: defaults, environment, flags.

Stdlib only, so the CLI and the test fixture can read it without importing
moto. Precedence: command-line flag, then environment, then the default.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from pipeline.errors import SandboxError

HOST = "127.0.0.1"  # loopback only: dockerd treats 127.0.0.0/8 registries as plain HTTP
ACCOUNT = "123456789012"  # moto's default account; every sandbox ECR call lands in it
REGION = "us-east-1"
STATE_DIR_ENV = "PIPELINE_SANDBOX_DIR"
REGISTRY_BIN_ENV = "PIPELINE_SANDBOX_REGISTRY_BIN"
DEFAULT_STATE_DIR = ".sandbox"
KUBECONFIG_FILE = "kubeconfig"  # in the state folder, written by the server

# Fake credentials: moto accepts anything, and these can never reach real AWS.
ACCESS_KEY = "AKIASANDBOXTESTING00"
SECRET_KEY = "sandbox-secret-access-key-not-real"  # noqa: S105 - a fake on purpose


@dataclass(frozen=True)
class Ports:
    """Loopback ports; 0 means "pick a free one" (the test fixture does this)."""

    aws: int = 5100  # moto: AWS_ENDPOINT_URL
    registry: int = 5101  # the front proxy: PIPELINE_REGISTRY_HOST
    upstream: int = 5102  # docker-registry itself, reached only through the proxy
    webhook: int = 5103  # the registry's notification endpoint
    control: int = 5104  # the control channel (channel.py): findings, fail-next
    kube: int = 5105  # the Kubernetes API emulation (https): KUBECONFIG's server

    @staticmethod
    def env_name(field: str) -> str:
        return f"PIPELINE_SANDBOX_{field.upper()}_PORT"

    @staticmethod
    def flag(field: str) -> str:
        return f"--{field}-port"

    @classmethod
    def resolve(
        cls, flags: Mapping[str, int | None] | None = None, env: Mapping[str, str] | None = None
    ) -> Ports:
        """Flags (by field name) win over PIPELINE_SANDBOX_<NAME>_PORT, then the default."""
        env = os.environ if env is None else env
        values: dict[str, int] = {}
        for f in fields(cls):
            raw: int | str | None = (flags or {}).get(f.name)
            if raw is None:
                raw = env.get(cls.env_name(f.name)) or None
            if raw is None:
                continue
            try:
                values[f.name] = _port(raw)
            except ValueError:
                raise SandboxError(
                    f"{cls.env_name(f.name)}/{cls.flag(f.name)}: {raw!r} is not a port (0-65535)"
                ) from None
        return replace(cls(), **values)

    @classmethod
    def free(cls) -> Ports:
        return cls(**{f.name: 0 for f in fields(cls)})

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def allocate(self) -> Ports:
        """Turn every 0 into a free port and check that the fixed ones are free."""
        chosen: dict[str, int] = {}
        for name, port in self.as_dict().items():
            if port == 0:
                port = _free_port(set(chosen.values()))
            elif port in chosen.values() or not port_free(port):
                raise SandboxError(
                    f"port {port} for the sandbox's {name} is already in use: choose another "
                    f"with {self.flag(name)} or {self.env_name(name)}"
                )
            chosen[name] = port
        return Ports(**chosen)


def _port(value: int | str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise ValueError(value)
    return port


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        # SO_REUSEADDR as our servers set it: a TIME_WAIT leftover is not "taken".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port(avoid: set[int]) -> int:
    """A free port below the kernel's ephemeral range, where it can be had.

    A port the kernel hands out for port 0 is one of those it also gives as
    the source port of outgoing connections, so between this check and the
    server's bind, any client on the machine (docker, boto3, another test) may
    take it. Below that range only a listener can.
    """
    low, high = _quiet_range()
    choose = random.Random()  # noqa: S311 - spreading ports, not a secret
    for _ in range(100):
        port = choose.randint(low, high)
        if port not in avoid and port_free(port):
            return port
    while True:  # a crowded range: the kernel's choice, as a last resort
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port


def _quiet_range(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> tuple[int, int]:
    """Ports no outgoing connection is given: those below the ephemeral range."""
    try:
        ephemeral_low = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 49152  # IANA's dynamic range, which BSDs and macOS use
    if ephemeral_low <= 4096:
        return 10000, 20000  # an unusual setup: any registered-port block will do
    return max(1024, ephemeral_low // 2), ephemeral_low - 1


def state_dir(given: str | os.PathLike[str] | None = None) -> Path:
    """`--dir`, else PIPELINE_SANDBOX_DIR, else .sandbox/ under the current directory."""
    raw = given or os.environ.get(STATE_DIR_ENV) or DEFAULT_STATE_DIR
    return Path(raw).absolute()


def make_private(path: Path) -> None:
    """Make `path` a folder only we can enter (0700), refusing one someone else owns.

    The state folder holds the control channel's token and the registry's
    password hash, so another local user must not be able to read it, and a
    folder that user prepared for us (owning it, they could swap its files)
    must not be used at all.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_uid != os.getuid():
        raise SandboxError(
            f"{path} belongs to another user (uid {info.st_uid}): choose a folder of your own "
            f"with --dir or {STATE_DIR_ENV}"
        )
    if info.st_mode & 0o077:
        path.chmod(0o700)


def registry_binary() -> str:
    """The distribution registry (v2.8); says what to install when it is missing."""
    override = os.environ.get(REGISTRY_BIN_ENV)
    found = shutil.which(override or "docker-registry")
    if found:
        return found
    if override:
        raise SandboxError(f"{REGISTRY_BIN_ENV}={override}: no such executable")
    hint = (
        "install it with `apt-get install docker-registry`"
        if shutil.which("apt-get")
        else "install the CNCF distribution registry v2.8 (github.com/distribution/distribution) "
        f"and put its binary on PATH as docker-registry, or point {REGISTRY_BIN_ENV} at it"
    )
    raise SandboxError(f"the sandbox needs the `docker-registry` binary: {hint}")


@dataclass(frozen=True)
class Endpoints:
    """What a client needs to talk to a running sandbox."""

    ports: Ports
    region: str = REGION
    account: str = ACCOUNT
    kubeconfig: str | None = None  # the file `sandbox env` exports as KUBECONFIG

    @property
    def aws_url(self) -> str:
        return f"http://{HOST}:{self.ports.aws}"

    @property
    def registry_host(self) -> str:
        return f"{HOST}:{self.ports.registry}"

    @property
    def kube_url(self) -> str:
        return f"https://{HOST}:{self.ports.kube}"

    def env(self) -> dict[str, str]:
        kube = {"KUBECONFIG": self.kubeconfig} if self.kubeconfig else {}
        return {
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ACCOUNT_ID": self.account,
            "PIPELINE_REGISTRY_HOST": self.registry_host,
            **kube,
        }
