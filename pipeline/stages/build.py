"""Build stage: every image to build, in dependency order, on a bounded pool.

A failed build stops with the builder's own message; images that depend on
it are not started; and the run pushes nothing (the push stage only starts
when every build succeeded).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pipeline import log, parallel, readfile
from pipeline.adapters.ports import Builder, BuildRequest, BuildResult, SecretSource
from pipeline.errors import BuildError, UsageError
from pipeline.plan import ImagePlan

INPUT_LABEL = "pipeline.input-digest"
#: BuildKit refuses bigger secrets; say so before anything is built.
SECRET_FILE_LIMIT = 500 << 10


def secrets_for(image: ImagePlan, root: Path, env: Mapping[str, str]) -> tuple[SecretSource, ...]:
    """Resolve secret sources before anything runs, so a missing one costs no build."""
    out = []
    for secret in image.secrets:
        if secret.src is not None:
            path = (root / secret.src).resolve()
            why = readfile.problem(path, SECRET_FILE_LIMIT)
            if why:
                raise UsageError(f"image {image.name}: secret {secret.id}: {path}: {why}")
            out.append(SecretSource(secret.id, src=path))
        else:
            assert secret.env is not None
            if secret.env not in env:
                raise UsageError(
                    f"image {image.name}: secret {secret.id}: environment variable"
                    f" {secret.env} is not set"
                )
            out.append(SecretSource(secret.id, env=secret.env))
    return tuple(out)


def request_for(
    image: ImagePlan, input_digest: str | None, secrets: tuple[SecretSource, ...]
) -> BuildRequest:
    labels = dict(image.labels)
    if input_digest:
        labels[INPUT_LABEL] = input_digest
    return BuildRequest(
        name=image.name,
        refs=tuple(image.refs),
        context_dir=image.context_dir,
        dockerfile=image.dockerfile,
        target=image.target,
        build_args=dict(image.build_args),
        labels=labels,
        secrets=secrets,
        platforms=image.platforms,
    )


class Gate:
    """Whether a build started early is wanted, and its output held until then.

    A run starts building as soon as it knows the inputs, while it still asks
    the registry whether that image is already published. The answer comes a
    moment later: `open()` lets the held lines out and the build go on;
    `close()` drops them (the caller stops the build).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._decided = threading.Event()
        self._wanted = False
        self._held: list[str] = []

    def say(self, text: str) -> None:
        with self._lock:
            if not self._decided.is_set():
                self._held.append(text)
            elif self._wanted:
                log.LOG.info("%s", text)

    def open(self) -> None:
        self._decide(True)

    def close(self) -> None:
        self._decide(False)

    def _decide(self, wanted: bool) -> None:
        with self._lock:
            if self._decided.is_set():
                return
            self._wanted = wanted
            for text in self._held if wanted else ():
                log.LOG.info("%s", text)
            self._held.clear()
            self._decided.set()

    @property
    def decided(self) -> bool:
        return self._decided.is_set()

    def wanted(self) -> bool:
        self._decided.wait()
        return self._wanted


def run(
    images: Sequence[ImagePlan],
    requests: Mapping[str, BuildRequest],
    builder: Builder,
    *,
    workers: int,
    dry_run: bool = False,
    on_interrupt: Callable[[], None] = lambda: None,
    gates: Mapping[str, Gate] | None = None,
) -> dict[str, parallel.Outcome[BuildResult | None]]:
    """Build every image; with `gates`, an image whose gate closes yields None."""

    def job(name: str) -> BuildResult | None:
        request = requests[name]
        if dry_run:
            log.LOG.info(
                "dry-run: would build %s with %s as %s", name, builder.name, request.refs[0]
            )
            return BuildResult(image_id="")
        gate = (gates or {}).get(name)
        say = gate.say if gate else lambda text: log.LOG.info("%s", text)
        if gate is not None and gate.decided and not gate.wanted():
            return None
        say(f"building {name} with {builder.name}")

        def show(line: str) -> None:
            if line.strip():
                say(f"[{name}] {line}")

        try:
            result = builder.build(request, show)
        except BuildError:
            if gate is not None and not gate.wanted():
                return None  # stopped because it was not wanted after all
            raise
        if gate is not None and not gate.wanted():
            builder.discard(request)  # finished before the answer: leave no trace of it
            return None
        say(f"built {name}: {result.image_id}")
        return result

    names = [i.name for i in images]
    deps = {i.name: list(i.depends_on) for i in images}
    return parallel.run(names, deps, job, workers=workers, on_interrupt=on_interrupt)
