"""`pipeline run --only build,push` end to end: report, registry, ECR, each builder.

Against the machine's dockerd, the distribution registry and the emulated ECR:
what the report says is what ECR lists and what the registry serves.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pipeline.adapters import builders
from pipeline.adapters.ports import BuildRequest, SecretSource
from tests.integration.run.support import (
    Project,
    Registry,
    ecr_config,
    image_tags,
    run_cli,
)

DOCKERFILE = """\
FROM local/busybox:1 AS base
ARG GREETING=unset
RUN echo "$GREETING" > /greeting

FROM base AS runtime
RUN echo runtime > /stage

FROM runtime AS debug
RUN echo debug > /stage
"""

# BuildKit's cache ignores secret values: the nonce keeps an earlier run's layer out.
SECRET_DOCKERFILE = """\
FROM local/busybox:1
ARG NONCE
RUN echo "$NONCE" > /nonce
RUN --mount=type=secret,id=npmrc --mount=type=secret,id=token \\
    sha256sum /run/secrets/npmrc | cut -c1-64 > /npmrc.sha \\
 && sha256sum /run/secrets/token | cut -c1-64 > /token.sha
"""


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_report_matches_ecr_and_registry(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
    registry: Registry,
) -> None:
    project = make_project("app")
    project.write("Dockerfile", DOCKERFILE)
    repo = f"{prefix}/app"
    config = ecr_config(
        [{"name": "app", "repository": repo, "target": "runtime"}],
        outputs={"report": "out/pipeline-report.json"},
    )
    project.config(config)
    sha = project.commit("first")

    result = run_cli(project, env, "run", "--only", "build,push")

    assert result.code == 0, result.describe()
    report = result.report
    # --report FILE and outputs.report hold the same report
    assert (project.root / "out/pipeline-report.json").read_text() == result.report_text
    assert report["status"] == "ok"
    entry = result.image("app")
    host = env["PIPELINE_REGISTRY_HOST"]
    assert entry["image"] == f"{host}/{repo}"
    assert entry["built"] is True and entry["pushed"] is True and entry["reused"] is False
    assert entry["tags"] == [f"sha-{sha[:7]}"]
    assert entry["pending_tags"] == ["main", "latest"]
    assert entry["error"] is None

    digest = entry["digest"]
    assert digest.startswith("sha256:")
    # ECR lists exactly that digest under exactly the immutable tags...
    assert image_tags(ecr, repo) == {digest: {f"sha-{sha[:7]}"}}
    # ...and the registry serves it under that digest (Docker-Content-Digest)
    assert registry.digest(repo, f"sha-{sha[:7]}") == digest
    # the mutable tags move later, in the promote stage: not in the registry yet
    assert registry.tags(repo) == [f"sha-{sha[:7]}"]
    assert "not moved (promote stage): main, latest" in result.stdout


@pytest.mark.parametrize("builder", ["buildkit", "classic"])
def test_each_builder_puts_args_target_and_labels_on_the_pushed_image(
    builder: str,
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    registry: Registry,
) -> None:
    project = make_project("app")
    project.write("Dockerfile", DOCKERFILE)
    repo = f"{prefix}/app"
    project.config(
        ecr_config(
            [
                {
                    "name": "app",
                    "repository": repo,
                    "target": "runtime",
                    "build_args": {"GREETING": "hello from the build"},
                    "labels": {"team": "payments"},
                }
            ]
        )
    )
    sha = project.commit("first")

    result = run_cli(
        project, {**env, "PIPELINE_BUILDER": builder}, "-v", "run", "--only", "build,push"
    )

    assert result.code == 0, result.describe()
    assert f"builder: {builder}" in result.stderr
    entry = result.image("app")
    tag = f"sha-{sha[:7]}"
    assert registry.digest(repo, tag) == entry["digest"]
    labels = registry.config(repo, tag)["config"]["Labels"]
    assert labels["org.opencontainers.image.revision"] == sha
    assert labels["org.opencontainers.image.title"] == "app"
    assert labels["team"] == "payments"
    assert labels["pipeline.input-digest"] == entry["input_digest"]
    files = registry.files(repo, tag)
    assert files["/greeting"] == b"hello from the build\n"  # the build arg
    assert files["/stage"] == b"runtime\n"  # the target stage, not the last one


@contextmanager
def _argv_sampler() -> Iterator[set[str]]:
    """Collects the command lines of every process while the block runs."""
    seen: set[str] = set()
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for entry in os.scandir("/proc"):
                if entry.name.isdigit():
                    try:
                        seen.add(Path(entry.path, "cmdline").read_bytes().decode(errors="replace"))
                    except OSError:
                        continue
            stop.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join()


def test_buildkit_secrets_are_usable_and_never_leak(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    registry: Registry,
) -> None:
    file_secret = "npm-file-secret-" + os.urandom(8).hex()
    env_secret = "env-token-secret-" + os.urandom(8).hex()
    project = make_project("app")
    project.write("Dockerfile", SECRET_DOCKERFILE)
    project.write(".npmrc", file_secret)
    project.write(".dockerignore", ".npmrc\n")
    repo = f"{prefix}/app"
    project.config(
        ecr_config(
            [
                {
                    "name": "app",
                    "repository": repo,
                    "build_args": {"NONCE": os.urandom(8).hex()},
                    "secrets": [
                        {"id": "npmrc", "src": ".npmrc"},
                        {"id": "token", "env": "NPM_TOKEN"},
                    ],
                }
            ]
        )
    )
    sha = project.commit("first")

    with _argv_sampler() as argvs:
        result = run_cli(
            project,
            {**env, "PIPELINE_BUILDER": "buildkit", "NPM_TOKEN": env_secret},
            "-v",
            "run",
            "--only",
            "build,push",
        )

    assert result.code == 0, result.describe()
    tag = f"sha-{sha[:7]}"
    files = registry.files(repo, tag)
    # the build read both secrets (it hashed them), from a file and from the environment
    assert files["/npmrc.sha"].decode().strip() == _sha(file_secret)
    assert files["/token.sha"].decode().strip() == _sha(env_secret)
    # the values are nowhere: image config and history, layers, output, report, argv
    for secret in (file_secret, env_secret):
        for blob in registry.raw(repo, tag):
            assert secret.encode() not in blob
        assert secret not in result.output
        assert secret not in result.report_text
        assert not [a for a in argvs if secret in a]
    history = str(registry.config(repo, tag)["history"])
    assert "/run/secrets/npmrc" in history  # the RUN step is there, its secret is not
    # the sampler did see the builder's command line, with its --secret options
    assert [a for a in argvs if "id=npmrc,src=" in a and "id=token,env=NPM_TOKEN" in a], argvs

    # The builder's command line carries a path and a variable name, never a value.
    found = next(f for f in builders.available(env) if f.kind == "buildkit")
    argv = builders.CliBuilder(found, env).argv(
        BuildRequest(
            name="app",
            refs=("x/app:1",),
            context_dir=project.root,
            dockerfile=project.root / "Dockerfile",
            secrets=(
                SecretSource("npmrc", src=project.root / ".npmrc"),
                SecretSource("token", env="NPM_TOKEN"),
            ),
        ),
        Path("/tmp/iid"),
    )
    assert f"id=npmrc,src={project.root / '.npmrc'}" in argv
    assert "id=token,env=NPM_TOKEN" in argv
    assert not [a for a in argv if file_secret in a or env_secret in a]


def test_classic_builder_refuses_secrets(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
) -> None:
    project = make_project("app")
    project.write("Dockerfile", SECRET_DOCKERFILE)
    project.write(".npmrc", "whatever")
    repo = f"{prefix}/app"
    project.config(
        ecr_config(
            [
                {
                    "name": "app",
                    "repository": repo,
                    "secrets": [
                        {"id": "npmrc", "src": ".npmrc"},
                        {"id": "token", "env": "NPM_TOKEN"},
                    ],
                }
            ]
        )
    )
    project.commit("first")

    result = run_cli(
        project,
        {**env, "PIPELINE_BUILDER": "classic", "NPM_TOKEN": "x" * 12},
        "run",
        "--only",
        "build,push",
    )

    assert result.code == 1, result.describe()
    assert "build secrets need BuildKit" in result.stderr
    assert result.report["status"] == "failed"
    assert image_tags(ecr, repo) == {}
