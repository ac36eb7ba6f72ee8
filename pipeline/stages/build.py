"""Build stage: every image to build, in dependency order, on a bounded pool.

A failed build stops with the builder's own message; images that depend on
it are not started; and the run pushes nothing (the push stage only starts
when every build succeeded).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pipeline import log, parallel
from pipeline.adapters.ports import Builder, BuildRequest, BuildResult, SecretSource
from pipeline.errors import UsageError
from pipeline.plan import ImagePlan

INPUT_LABEL = "pipeline.input-digest"


def secrets_for(image: ImagePlan, root: Path, env: Mapping[str, str]) -> tuple[SecretSource, ...]:
    """Resolve secret sources before anything runs, so a missing one costs no build."""
    out = []
    for secret in image.secrets:
        if secret.src is not None:
            path = (root / secret.src).resolve()
            if not path.is_file():
                raise UsageError(f"image {image.name}: secret {secret.id}: no file {path}")
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


def run(
    images: Sequence[ImagePlan],
    requests: Mapping[str, BuildRequest],
    builder: Builder,
    *,
    workers: int,
    dry_run: bool = False,
    on_interrupt: Callable[[], None] = lambda: None,
) -> dict[str, parallel.Outcome[BuildResult]]:
    def job(name: str) -> BuildResult:
        request = requests[name]
        if dry_run:
            log.LOG.info(
                "dry-run: would build %s with %s as %s", name, builder.name, request.refs[0]
            )
            return BuildResult(image_id="")
        log.LOG.info("building %s with %s", name, builder.name)

        def show(line: str) -> None:
            if line.strip():
                log.LOG.info("[%s] %s", name, line)

        result = builder.build(request, show)
        log.LOG.info("built %s: %s", name, result.image_id)
        return result

    names = [i.name for i in images]
    deps = {i.name: list(i.depends_on) for i in images}
    return parallel.run(names, deps, job, workers=workers, on_interrupt=on_interrupt)
