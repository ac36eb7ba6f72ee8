"""Build stage: every image to build, in dependency order, on a bounded pool.

A failed build stops with the builder's own message; images that depend on
it are not started; and the run pushes nothing (the push stage only starts
when every build succeeded).
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

from pipeline import log, parallel
from pipeline.adapters.ports import Builder, BuildRequest, BuildResult, SecretSource
from pipeline.console import events
from pipeline.errors import BuildError, UsageError
from pipeline.plan import ImagePlan
from pipeline.stages import failures
from pipeline.stages.early import HeldOutput, Outcomes
from pipeline.stages.results import Built, ImageBuilt

INPUT_LABEL = "pipeline.input-digest"


#: BuildKit refuses larger secrets (500 KiB); finding it out before a build costs nothing.
MAX_SECRET = 500 * 1024
#: A build arg fed from a variable named like this probably carries a secret.
_SECRET_NAME = re.compile(r"TOKEN|PASSWORD|SECRET|KEY", re.IGNORECASE)
_MIN_VALUE = 4  # shorter values are too common to tell where they came from


def _secret_file(image: ImagePlan, secret_id: str, path: Path) -> None:
    """A regular file of at most 500 KiB; its content is masked from now on."""
    where = f"image {image.name}: secret {secret_id}"
    try:
        info = path.stat()
    except OSError:
        raise UsageError(f"{where}: no file {path}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"{where}: {path} is not a regular file")
    if info.st_size > MAX_SECRET:
        raise UsageError(f"{where}: {path} is larger than BuildKit's limit of 500 KiB")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SECRET + 1)
    except OSError as err:
        raise UsageError(f"{where}: cannot read {path}: {err.strerror}") from None
    if len(data) > MAX_SECRET:  # grew since stat
        raise UsageError(f"{where}: {path} is larger than BuildKit's limit of 500 KiB")
    log.mask_text(data.decode("utf-8", errors="replace"))


def secrets_for(image: ImagePlan, root: Path, env: Mapping[str, str]) -> tuple[SecretSource, ...]:
    """Resolve secret sources before anything runs, so a missing one costs no build.

    Their values are masked from here on, in the log, the build output and the
    report. Messages name the file or the variable, never the value.
    """
    out = []
    for secret in image.secrets:
        if secret.src is not None:
            path = (root / secret.src).resolve()  # secret files may live anywhere
            _secret_file(image, secret.id, path)
            out.append(SecretSource(secret.id, src=path))
        else:
            assert secret.env is not None
            if secret.env not in env:
                raise UsageError(
                    f"image {image.name}: secret {secret.id}: environment variable"
                    f" {secret.env} is not set"
                )
            value = env[secret.env]
            if len(value.encode()) > MAX_SECRET:
                raise UsageError(
                    f"image {image.name}: secret {secret.id}: the value of {secret.env} is"
                    " larger than BuildKit's limit of 500 KiB"
                )
            log.mask_text(value)
            out.append(SecretSource(secret.id, env=secret.env))
    return tuple(out)


def secret_build_args(images: Sequence[ImagePlan], env: Mapping[str, str]) -> list[str]:
    """Warnings for build args that carry what looks like a secret; their values are masked.

    A build arg ends up in the image's history for anyone who pulls it; a
    BuildKit secret does not. A value counts when it comes from a variable
    named like a secret (`${NPM_TOKEN}`), or when the arg itself is so named.
    """
    secret_values = {
        value: name
        for name, value in env.items()
        if _SECRET_NAME.search(name) and len(value) >= _MIN_VALUE
    }
    warnings = []
    for image in images:
        for arg, value in image.build_args.items():
            source = secret_values.get(value) or next(
                (
                    name
                    for secret, name in secret_values.items()
                    if len(secret) >= 8 and secret in value
                ),
                None,
            )
            if source is not None:
                why = f"its value comes from {source}"
                log.mask(value)  # the variable's value: kept out of logs and argv
            elif _SECRET_NAME.search(arg) and value:
                why = "its name says it holds a secret"
            else:
                continue
            warnings.append(
                f"image {image.name}: build arg {arg}: {why}; build args are kept in the"
                f" image's history, so pass it as a build secret instead (secrets: [{{id:"
                f" {arg.lower()}, env: {source or arg}}}], read with"
                f" RUN --mount=type=secret,id={arg.lower()})"
            )
    return warnings


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


def build_all(
    images: Sequence[ImagePlan],
    requests: Mapping[str, BuildRequest],
    builder: Builder,
    *,
    workers: int,
    dry_run: bool = False,
    on_interrupt: Callable[[], None] = lambda: None,
    holds: Mapping[str, HeldOutput] | None = None,
) -> Outcomes:
    """Build every image; with `holds` (an early build), one called off yields None."""

    def job(name: str) -> BuildResult | None:
        request = requests[name]
        if dry_run:
            log.LOG.info(
                "dry-run: would build %s with %s as %s", name, builder.name, request.refs[0]
            )
            return BuildResult(image_id="")
        gate = (holds or {}).get(name)
        say = gate.say if gate else events.say
        if gate is not None and gate.decided and not gate.wanted():
            return None
        say(f"building {name} with {builder.name}")

        def show(line: str) -> None:
            # the builder's own output: the console's progress, a line only with -v
            if line.strip():
                say(f"[{name}] {line}", events.BuildOutput(name, line))

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


def built(
    images: Sequence[ImagePlan],
    outcomes: Mapping[str, parallel.Outcome[BuildResult | None]],
    input_digests: Mapping[str, str | None],
    reusable: Collection[str],
    *,
    dry_run: bool,
) -> Built:
    """The stage's value: per image, built, reused (its build called off) or failed.

    An image the run did not build (build not selected) still carries its input
    digest, which the report shows either way.
    """
    out = []
    for image in images:
        name = image.name
        digest = input_digests.get(name)
        outcome = outcomes.get(name)
        if name in reusable:
            out.append(ImageBuilt(name, reused=True, input_digest=digest))
        elif outcome is None:
            out.append(ImageBuilt(name, input_digest=digest))
        elif outcome.ok and outcome.value is not None:
            out.append(
                ImageBuilt(
                    name,
                    image_id=outcome.value.image_id or None,
                    built=not dry_run,
                    input_digest=digest,
                )
            )
        else:
            error = failures.describe(name, outcome.error, outcome.blocked_by)
            out.append(ImageBuilt(name, input_digest=digest, error=error))
    return Built(tuple(out))
