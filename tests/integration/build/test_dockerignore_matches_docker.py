"""The context walker against the real engine: BuildKit builds each case and lists what COPY got.

Each case of the shared table is built from local/busybox:1 with
``COPY . /ctx`` and a listing of /ctx; the listing, the table's expectation
and ``dockerignore.walk`` must all agree. These tests never skip: without a
working engine they fail and say how to start one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import dockerignore
from pipeline.dockerignore import IgnoreFileError
from tests.unit.dockerignore_cases import ACCEPTED, CASES, DOCKERFILE, REJECTED, Case, make_context

BASE_IMAGE = "local/busybox:1"
LISTING = f"""FROM {BASE_IMAGE}
COPY . /ctx
RUN find /ctx -mindepth 1 \\( -type f -o -type l \\) > /list
"""
SETUP_HINT = "run scripts/services.sh to install and start dockerd and build local/busybox:1"


def _cli() -> str:
    # Debian's client runs BuildKit builds by itself; another one on PATH may need buildx.
    return "/usr/bin/docker" if os.access("/usr/bin/docker", os.X_OK) else "docker"


@pytest.fixture(scope="module")
def docker() -> str:
    cli = _cli()
    if shutil.which(cli) is None:
        pytest.fail(f"no docker client found; {SETUP_HINT}")
    info = subprocess.run([cli, "info"], capture_output=True, text=True, check=False)
    if info.returncode != 0:
        pytest.fail(f"dockerd is not reachable ({info.stderr.strip()}); {SETUP_HINT}")
    base = subprocess.run([cli, "image", "inspect", BASE_IMAGE], capture_output=True, check=False)
    if base.returncode != 0:
        pytest.fail(f"the base image {BASE_IMAGE} is missing; {SETUP_HINT}")
    return cli


@pytest.fixture
def image(docker: str) -> Iterator[str]:
    tag = f"pipeline-test/dockerignore:{uuid.uuid4().hex[:16]}"
    yield tag
    subprocess.run([docker, "rmi", "--force", tag], capture_output=True, check=False)


def build(docker: str, context: Path, tag: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    return subprocess.run(
        [docker, "build", "--quiet", "--tag", tag, *args, str(context)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def copied(docker: str, context: Path, tag: str, *args: str) -> set[str]:
    """What ``COPY . /ctx`` received when building ``context``."""
    result = build(docker, context, tag, *args)
    assert result.returncode == 0, result.stderr
    listing = subprocess.run(
        [docker, "run", "--rm", tag, "cat", "/list"], capture_output=True, check=True
    ).stdout
    return {os.fsdecode(line).removeprefix("/ctx/") for line in listing.splitlines()}


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_walk_matches_buildkit(tmp_path: Path, docker: str, image: str, c: Case) -> None:
    make_context(tmp_path, c, dockerfile=LISTING)
    ours = set(dockerignore.walk(tmp_path, dockerignore.load(tmp_path, tmp_path / DOCKERFILE)))
    assert copied(docker, tmp_path, image) == c.expected == ours


def test_dockerfile_elsewhere_uses_the_ignore_file_beside_it(
    tmp_path: Path, docker: str, image: str
) -> None:
    context, elsewhere = tmp_path / "ctx", tmp_path / "build"
    context.mkdir()
    elsewhere.mkdir()
    for name in ("a", "b", "c"):
        (context / name).write_text(name)
    (context / ".dockerignore").write_text("a\n")
    dockerfile = elsewhere / "app.Dockerfile"
    dockerfile.write_text(LISTING)
    (elsewhere / "app.Dockerfile.dockerignore").write_text("b\n")
    ours = set(dockerignore.walk(context, dockerignore.load(context, dockerfile)))
    assert (
        copied(docker, context, image, "--file", str(dockerfile))
        == ours
        == {
            ".dockerignore",
            "a",
            "c",
        }
    )


@pytest.mark.parametrize("line", REJECTED + ACCEPTED)
def test_rejects_the_patterns_the_engine_rejects(
    tmp_path: Path, docker: str, image: str, line: str
) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / ".dockerignore").write_text(line + "\n")
    (tmp_path / DOCKERFILE).write_text(LISTING)
    engine_ok = build(docker, tmp_path, image).returncode == 0
    try:
        dockerignore.load(tmp_path, tmp_path / DOCKERFILE)
    except IgnoreFileError:
        ours_ok = False
    else:
        ours_ok = True
    assert ours_ok == engine_ok == (line in ACCEPTED)
