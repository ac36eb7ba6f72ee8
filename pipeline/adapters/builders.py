"""Choosing and running an image builder: buildx, a BuildKit client, or classic.

BuildKit by default: `docker buildx build` where buildx exists; else a docker
client older than 23.0, which runs BuildKit itself with DOCKER_BUILDKIT=1
(newer clients refuse without buildx); else the classic builder through the
Docker SDK. Detected once per run; PIPELINE_BUILDER=buildx|buildkit|classic
forces a choice (and fails if the machine cannot honour it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.adapters.docker_engine import Engine
from pipeline.adapters.ports import Builder, BuildRequest, BuildResult, LineSink
from pipeline.errors import BuildError, UsageError

KINDS = ("buildx", "buildkit", "classic")


@dataclass(frozen=True)
class Found:
    kind: str
    cli: str | None
    version: str


def _run(argv: list[str], env: Mapping[str, str]) -> str | None:
    try:
        out = subprocess.run(
            argv, capture_output=True, text=True, timeout=20, env=dict(env), check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


#: Where Debian's docker.io puts its client, which runs BuildKit without buildx.
FALLBACK_CLIENTS: tuple[str, ...] = ("/usr/bin/docker",)


def _clients(env: Mapping[str, str]) -> list[str]:
    found: list[str] = []
    seen: set[str] = set()
    on_path = shutil.which("docker", path=env.get("PATH"))
    for candidate in (env.get("PIPELINE_DOCKER"), on_path, *FALLBACK_CLIENTS):
        if candidate and os.access(candidate, os.X_OK) and os.path.realpath(candidate) not in seen:
            seen.add(os.path.realpath(candidate))
            found.append(candidate)
    return found


def available(env: Mapping[str, str]) -> list[Found]:
    """Every builder this machine offers, best first."""
    offers: list[Found] = []
    clients = _clients(env)
    for cli in clients:
        version = _run([cli, "buildx", "version"], env)
        if version:
            offers.append(Found("buildx", cli, version))
            break
    for cli in clients:
        version = _run([cli, "version", "--format", "{{.Client.Version}}"], env)
        if version and version.split(".")[0].isdigit() and int(version.split(".")[0]) < 23:
            offers.append(Found("buildkit", cli, version))
            break
    offers.append(Found("classic", None, "docker SDK"))
    return offers


def choose(env: Mapping[str, str]) -> Found:
    offers = available(env)
    forced = env.get("PIPELINE_BUILDER")
    if not forced:
        return offers[0]
    if forced not in KINDS:
        raise UsageError(f"PIPELINE_BUILDER={forced!r}: expected one of {', '.join(KINDS)}")
    for offer in offers:
        if offer.kind == forced:
            return offer
    have = ", ".join(o.kind for o in offers)
    raise UsageError(
        f"PIPELINE_BUILDER={forced} is not available here (this machine offers {have})"
    )


class CliBuilder:
    """`docker buildx build` or `DOCKER_BUILDKIT=1 docker build`, output streamed."""

    def __init__(self, found: Found, env: Mapping[str, str]) -> None:
        assert found.cli
        self.name = found.kind
        self.cli = found.cli
        self.env = dict(env)
        if found.kind == "buildkit":
            self.env["DOCKER_BUILDKIT"] = "1"

    def argv(self, request: BuildRequest, iidfile: Path) -> list[str]:
        argv = [self.cli, *(["buildx", "build", "--load"] if self.name == "buildx" else ["build"])]
        if self.name == "buildx":
            # no attestation index: it breaks single-arch consumers and clutters ECR
            argv += ["--provenance=false", "--sbom=false"]
        argv += ["--progress=plain", "--iidfile", str(iidfile), "-f", str(request.dockerfile)]
        for ref in request.refs:
            argv += ["-t", ref]
        for key, value in request.labels.items():
            argv += ["--label", f"{key}={value}"]
        for key, value in request.build_args.items():
            argv += ["--build-arg", f"{key}={value}"]
        if request.target:
            argv += ["--target", request.target]
        if request.platforms:
            argv += ["--platform", ",".join(request.platforms)]
        for secret in request.secrets:  # a path or a variable *name*: the value never hits argv
            source = f"src={secret.src}" if secret.src else f"env={secret.env}"
            argv += ["--secret", f"id={secret.id},{source}"]
        argv.append(str(request.context_dir))
        return argv

    def build(self, request: BuildRequest, on_line: LineSink) -> BuildResult:
        if len(request.platforms) > 1 and self.name != "buildx":
            raise BuildError(f"{request.name}: several platforms need docker buildx")
        with tempfile.TemporaryDirectory(prefix="pipeline-build-") as tmp:
            iidfile = Path(tmp) / "iid"
            tail: deque[str] = deque(maxlen=25)
            proc = subprocess.Popen(
                self.argv(request, iidfile),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                env=self.env,
            )
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    line = line.rstrip("\n")
                    tail.append(line)
                    on_line(line)
            finally:
                code = proc.wait()
            if code != 0:
                raise BuildError(f"{request.name}: build failed (exit {code}):\n" + _reason(tail))
            image_id = iidfile.read_text().strip() if iidfile.exists() else ""
        if not image_id:
            raise BuildError(f"{request.name}: the builder wrote no image id")
        return BuildResult(image_id)


def _reason(tail: deque[str]) -> str:
    """The builder's own message: its ERROR lines if any, else the last lines."""
    errors = [line for line in tail if "ERROR" in line or "error" in line.lower()]
    return "\n".join(errors[-8:] or list(tail)[-8:])


class ClassicBuilder:
    name = "classic"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def build(self, request: BuildRequest, on_line: LineSink) -> BuildResult:
        return self.engine.classic_build(request, on_line)


def make(found: Found, engine: Engine, env: Mapping[str, str]) -> Builder:
    if found.kind == "classic":
        return ClassicBuilder(engine)
    return CliBuilder(found, env)
