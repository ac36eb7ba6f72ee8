"""Re-runs: an image with the same inputs is reused, never rebuilt, never collides.

The registry is ECR-like and IMMUTABLE (with `mutable_tags` for the tags that
move), so a re-run that tried to push its sha tag again would fail loudly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from pipeline import app, log
from pipeline.settings import RunSettings
from tests.integration.run.support import (
    Project,
    Registry,
    ecr_config,
    image_tags,
    remove_images,
    run_cli,
)

DOCKERFILE = "FROM local/busybox:1\nCOPY message.txt /message.txt\n"
IMMUTABLE = {"tag_mutability": "IMMUTABLE", "mutable_tags": ["latest", "main"]}
RULES = [
    {"type": "semver", "pattern": "{{version}}"},
    {"type": "raw", "value": "main", "when": "default_branch"},
    {"type": "sha"},
]


def _project(
    make_project: Callable[[str], Project], repo: str, *, allow_dirty: bool = False
) -> Project:
    project = make_project("app")
    project.write("Dockerfile", DOCKERFILE)
    project.write("message.txt", "first\n")
    project.config(
        ecr_config(
            [{"name": "app", "repository": repo}],
            repository=IMMUTABLE,
            tags=RULES,
            latest="auto",
            allow_dirty=allow_dirty,
        )
    )
    project.commit("first")
    return project


def test_rerun_reuses_release_adds_a_tag_change_rebuilds(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
    registry: Registry,
    docker_client: Any,
) -> None:
    repo = f"{prefix}/app"
    project = _project(make_project, repo)
    sha = f"sha-{project.head[:7]}"

    first = run_cli(project, env, "-v", "run", "--only", "build,push")
    assert first.code == 0, first.describe()
    digest = first.image("app")["digest"]
    assert image_tags(ecr, repo) == {digest: {sha}}

    # A cold runner: no local image, and the same commit again.
    remove_images(docker_client, f"/{prefix}/")
    again = run_cli(project, env, "-v", "run", "--only", "build,push")
    assert again.code == 0, again.describe()
    entry = again.image("app")
    assert (entry["built"], entry["reused"], entry["pushed"]) == (False, True, False)
    assert entry["digest"] == digest
    assert "building app" not in again.stderr
    assert "The push refers to repository" not in again.stderr  # no docker push at all
    assert image_tags(ecr, repo) == {digest: {sha}}

    # The release tag on the same commit: reused, 1.2.3 added by PutImage, no collision
    project.tag("v1.2.3")
    release = run_cli(project, env, "-v", "run", "--only", "build,push")
    assert release.code == 0, release.describe()
    entry = release.image("app")
    assert (entry["built"], entry["reused"]) == (False, True)
    assert entry["digest"] == digest
    assert entry["tags"] == ["1.2.3", sha]
    assert entry["pending_tags"] == ["main", "latest"]
    assert image_tags(ecr, repo) == {digest: {sha, "1.2.3"}}
    assert registry.digest(repo, "1.2.3") == digest

    # A change: built and pushed again, under a new digest
    project.write("message.txt", "second\n")
    new_sha = f"sha-{project.commit('second')[:7]}"
    changed = run_cli(project, env, "-v", "run", "--only", "build,push")
    assert changed.code == 0, changed.describe()
    entry = changed.image("app")
    assert (entry["built"], entry["pushed"], entry["reused"]) == (True, True, False)
    assert entry["digest"] != digest
    assert image_tags(ecr, repo) == {digest: {sha, "1.2.3"}, entry["digest"]: {new_sha}}


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_immutable_tag_already_on_the_same_image_is_a_success(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The push itself (no reuse lookup, as in a race of two runners) meets its own tag."""
    repo = f"{prefix}/app"
    project = _project(make_project, repo)
    first = run_cli(project, env, "run", "--only", "build,push")
    assert first.code == 0, first.describe()
    digest = first.image("app")["digest"]

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    plan = app.make_plan(
        app.Source(project.root / "pipeline.yaml"), stages=("build", "push"), env=env
    )
    services, engine = app.services(plan, env, RunSettings(), dry_run=False)
    image = plan.images[0]
    said = _Lines()
    log.LOG.addHandler(said)
    monkeypatch.setattr(log.LOG, "level", logging.INFO)
    try:
        published = services.pusher().publish(image, repo)
    finally:
        log.LOG.removeHandler(said)
        engine.close()

    assert published.digest == digest
    # the registry refused the tag (TAG_INVALID) and the pusher found our image behind it
    assert [m for m in said.lines if "already holds this image" in m], said.lines
    assert image_tags(ecr, repo) == {digest: {f"sha-{project.head[:7]}"}}


def test_immutable_tag_on_another_image_fails_naming_the_tag(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
) -> None:
    repo = f"{prefix}/app"
    project = _project(make_project, repo, allow_dirty=True)
    sha = f"sha-{project.head[:7]}"
    first = run_cli(project, env, "run", "--only", "build,push")
    assert first.code == 0, first.describe()
    digest = first.image("app")["digest"]

    # Same commit, same sha tag, other content: the work tree changed.
    project.write("message.txt", "uncommitted\n")
    second = run_cli(project, env, "run", "--only", "build,push")

    assert second.code == 1, second.describe()
    assert second.image("app")["tags"] == [sha]
    error = second.image("app")["error"]
    assert sha in error and "immutable" in error, error
    assert sha in second.stderr and "immutable" in second.stderr
    assert image_tags(ecr, repo) == {digest: {sha}}
