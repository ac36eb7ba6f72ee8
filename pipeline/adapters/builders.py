"""Choosing and running an image builder: buildx, a BuildKit client, or classic.

BuildKit by default: `docker buildx build` where buildx exists; else a docker
client older than 23.0, which runs BuildKit itself with DOCKER_BUILDKIT=1
(newer clients refuse without buildx); else the classic builder through the
Docker SDK. Detected once per run; PIPELINE_BUILDER=buildx|buildkit|classic
(checked with the other settings, handed in as `forced`) forces a choice and
fails if the machine cannot honour it.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline import dockerfile, log
from pipeline.adapters.docker_engine import Engine
from pipeline.adapters.ports import Builder, BuildRequest, BuildResult, Credentials, LineSink
from pipeline.credhelper import config_dir
from pipeline.credhelper.hosts import Served, served
from pipeline.credhelper.main import ecr_fetch
from pipeline.errors import BuildError, PipelineError, UsageError

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


def _clients(env: Mapping[str, str], docker: str | None = None) -> list[str]:
    found: list[str] = []
    seen: set[str] = set()
    on_path = shutil.which("docker", path=env.get("PATH"))
    for candidate in (docker, on_path, *FALLBACK_CLIENTS):
        if candidate and os.access(candidate, os.X_OK) and os.path.realpath(candidate) not in seen:
            seen.add(os.path.realpath(candidate))
            found.append(candidate)
    return found


def _client_version(cli: str, env: Mapping[str, str]) -> str | None:
    """`Docker version 20.10.24+dfsg1, build 297e128` -> `20.10.24+dfsg1` (no daemon call)."""
    out = _run([cli, "--version"], env)
    match = re.match(r"Docker version ([^,\s]+)", out or "")
    return match[1] if match else None


def available(env: Mapping[str, str], docker: str | None = None) -> list[Found]:
    """Every builder this machine offers, best first (`docker`: PIPELINE_DOCKER).

    The probes are a few client invocations; they run at once, since a run
    waits for the answer before its first build.
    """
    clients = _clients(env, docker)
    with cf.ThreadPoolExecutor(max_workers=max(1, 2 * len(clients))) as pool:
        buildx = [pool.submit(_run, [cli, "buildx", "version"], env) for cli in clients]
        versions = [pool.submit(_client_version, cli, env) for cli in clients]
    offers: list[Found] = []
    for cli, probe in zip(clients, buildx, strict=True):
        if probe.result():
            offers.append(Found("buildx", cli, str(probe.result())))
            break
    for cli, probe in zip(clients, versions, strict=True):
        version = probe.result()
        if version and version.split(".")[0].isdigit() and int(version.split(".")[0]) < 23:
            offers.append(Found("buildkit", cli, version))
            break
    offers.append(Found("classic", None, "docker SDK"))
    return offers


def choose(env: Mapping[str, str], forced: str | None = None, docker: str | None = None) -> Found:
    """The best builder, or the `forced` one (PIPELINE_BUILDER) if this machine has it."""
    offers = available(env, docker)
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

    stoppable = True  # each build is a process of its own

    def __init__(self, found: Found, env: Mapping[str, str]) -> None:
        assert found.cli
        self.name = found.kind
        self.description = f"{found.kind} ({found.cli} {found.version})"
        self.cli = found.cli
        self.env = dict(env)
        if found.kind == "buildkit":
            self.env["DOCKER_BUILDKIT"] = "1"
        self._lock = threading.Lock()
        self._running: dict[subprocess.Popen[str], str] = {}  # process -> image name
        self._stopped: set[str] = set()
        self._cancelled = False

    def cancel(self, grace: float = 5.0) -> None:
        """Ctrl-C: stop the builds in flight as a terminal would, and start no other.

        A Ctrl-C in a terminal reaches the docker clients too (one process
        group), but a CI runner or `kill -INT` signals only us. We wait for
        them (briefly) so that none outlives the run.
        """
        with self._lock:
            self._cancelled = True
            running = list(self._running)
        for proc in running:
            with contextlib.suppress(OSError):
                proc.send_signal(signal.SIGINT)  # the client cancels its build session
        deadline = time.monotonic() + grace
        for proc in running:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()

    def discard(self, request: BuildRequest) -> None:
        """Untag what a build that was not wanted after all produced (it finished first)."""
        subprocess.run(
            [self.cli, "image", "rm", *request.refs],
            capture_output=True,
            env=self.env,
            timeout=60,
            check=False,
        )

    def stop(self, name: str) -> None:
        """Stop (or never start) the build of one image: it turned out not to be needed."""
        with self._lock:
            self._stopped.add(name)
            running = [proc for proc, image in self._running.items() if image == name]
        for proc in running:
            with contextlib.suppress(OSError):
                proc.send_signal(signal.SIGINT)

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
            # A value registered as a secret is handed over in the client's
            # environment (`--build-arg NAME` reads it there), never in argv.
            argv += ["--build-arg", key if log.is_masked(value) else f"{key}={value}"]
        if request.target:
            argv += ["--target", request.target]
        if request.platforms:
            argv += ["--platform", ",".join(request.platforms)]
        argv += self.cache_args(request)
        for secret in request.secrets:  # a path or a variable *name*: the value never hits argv
            source = f"src={secret.src}" if secret.src else f"env={secret.env}"
            argv += ["--secret", f"id={secret.id},{source}"]
        argv.append(str(request.context_dir))
        return argv

    def cache_args(self, request: BuildRequest) -> list[str]:
        """Where the cache comes from and goes to.

        The BuildKit client of docker < 23 exports only inline cache (the
        final stage's layers, in the image itself); buildx also exports a
        registry cache of every stage, in the manifest form ECR accepts.
        """
        buildx = self.name == "buildx"
        argv: list[str] = []
        for ref in request.cache_from:
            argv += ["--cache-from", f"type=registry,ref={ref}" if buildx else ref]
        if request.cache_to == "registry" and buildx and request.cache_ref:
            argv += [
                "--cache-to",
                f"type=registry,ref={request.cache_ref},mode=max,image-manifest=true,"
                "oci-mediatypes=true",
            ]
        elif request.cache_to in ("inline", "registry"):
            argv += ["--build-arg", "BUILDKIT_INLINE_CACHE=1"]
        return argv

    def env_for(self, request: BuildRequest) -> dict[str, str]:
        """The client's environment, with the build args kept out of argv."""
        secret_args = {k: v for k, v in request.build_args.items() if log.is_masked(v)}
        return {**self.env, **secret_args}

    def build(self, request: BuildRequest, on_line: LineSink) -> BuildResult:
        if len(request.platforms) > 1 and self.name != "buildx":
            raise BuildError(f"{request.name}: several platforms need docker buildx")
        with contextlib.ExitStack() as stack:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="pipeline-build-"))
            extra = (
                stack.enter_context(config_dir.build_env(self.env, request.registry_hosts))
                if request.registry_hosts
                else {}
            )
            iidfile = Path(tmp) / "iid"
            tail: deque[str] = deque(maxlen=25)
            with self._lock:
                if self._cancelled:
                    raise BuildError(f"{request.name}: interrupted")
                if request.name in self._stopped:
                    raise BuildError(f"{request.name}: not needed")
                try:
                    proc = subprocess.Popen(
                        self.argv(request, iidfile),
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        text=True,
                        errors="replace",
                        env={**self.env_for(request), **extra},
                    )
                except OSError as err:
                    raise BuildError(f"{request.name}: cannot run {self.cli}: {err}") from None
                self._running[proc] = request.name
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    line = line.rstrip("\n")
                    tail.append(line)
                    on_line(line)
            finally:
                code = proc.wait()
                with self._lock:
                    self._running.pop(proc, None)
            if code != 0:
                # the tail is the build's own output: a secret it printed stays masked
                reason = log.redact(_reason(tail))
                raise BuildError(f"{request.name}: build failed (exit {code}):\n{reason}")
            image_id = iidfile.read_text().strip() if iidfile.exists() else ""
        if not image_id:
            raise BuildError(f"{request.name}: the builder wrote no image id")
        return BuildResult(image_id)


_FAILED_STEP = re.compile(r"^(#\d+) ERROR\b")
_STEP_LINE = re.compile(r"^(#\d+ |------|\s*> )")


def _reason(tail: deque[str]) -> str:
    """The builder's own message, without the progress noise around it.

    BuildKit's plain progress ends with its conclusion (`failed to solve ...`,
    `executor failed running ...`) after the last step block; the step that
    failed (`#N ERROR`) carries the command's own output. Both, or failing
    that the last lines.
    """
    lines = list(tail)
    failed = next((m[1] for m in map(_FAILED_STEP.match, reversed(lines)) if m), None)
    step = [
        line
        for line in lines
        if failed and line.startswith(failed + " ") and not line.startswith(f"{failed} sha256:")
    ]
    last = max((i for i, line in enumerate(lines) if _STEP_LINE.match(line)), default=-1)
    conclusion = [line for line in lines[last + 1 :] if line.strip()]
    return "\n".join(step + conclusion or lines[-8:])


class ClassicBuilder:
    name = "classic"
    description = "classic (docker SDK)"
    stoppable = False  # see cancel(): so the run never builds before it knows it must

    def __init__(
        self,
        engine: Engine,
        env: Mapping[str, str] | None = None,
        fetch: Callable[[Served], Credentials] | None = None,
    ) -> None:
        self.engine = engine
        self.env = dict(env or {})
        self._fetch = fetch
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Start no new build. One in flight cannot be stopped: docker-py keeps the
        build's response inside its generator, so a classic build runs to its end
        after Ctrl-C; BuildKit builds stop.
        """
        self._cancelled.set()

    def stop(self, name: str) -> None:
        """Never asked for (not stoppable): a classic build runs to its end."""

    def discard(self, request: BuildRequest) -> None:
        """Never asked for (not stoppable): nothing is built early."""

    def pull_cache(self, request: BuildRequest, on_line: LineSink) -> tuple[str, ...]:
        """The classic builder reuses only local images: pull the candidates first.

        Credentials for the hosts our helper serves come from the same place the
        helper gets them (a fresh ECR token), in the Engine API's auth header; a
        candidate that cannot be pulled is skipped.
        """
        pulled: list[str] = []
        for ref in request.cache_from:
            host = dockerfile.registry_host(ref)
            target = served(host, self.env) if host in request.registry_hosts else None
            try:
                auth = None
                if target is not None:
                    creds = (self._fetch or ecr_fetch)(target)
                    auth = {"username": creds.username, "password": creds.password}
                self.engine.pull(ref, auth)
            except PipelineError as err:
                log.LOG.debug("cache image %s: %s; building without it", ref, err)
                continue
            on_line(f"pulled cache image {ref}")
            pulled.append(ref)
        return tuple(pulled)

    def build(self, request: BuildRequest, on_line: LineSink) -> BuildResult:
        if self._cancelled.is_set():
            raise BuildError(f"{request.name}: interrupted")
        if request.cache_from:
            request = dataclasses.replace(request, cache_from=self.pull_cache(request, on_line))
        return self.engine.classic_build(request, on_line)


def make(found: Found, engine: Engine, env: Mapping[str, str]) -> Builder:
    if found.kind == "classic":
        return ClassicBuilder(engine, env)
    return CliBuilder(found, env)
