"""Cold runners: the layer cache comes from the registry, and falls back cleanly.

Each test's dependency step echoes a nonce of its own, so no other build on
the shared engine can supply it; "cold" removes this test's local images and
prunes only this step's build-cache records (see cold.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from tests.integration.build.cold import forget_build_cache, step_cached
from tests.integration.run.support import Project, Registry, ecr_config, remove_images, run_cli

SLOW = 6  # seconds of the dependency step


def _project(make_project: Callable[[str], Project], repo: str, nonce: str, **top: Any) -> Project:
    project = make_project("app")
    project.write(
        "Dockerfile",
        "FROM local/busybox:1\n"
        f"RUN echo {nonce} > /deps.txt && sleep {SLOW}\n"
        "COPY app.txt /app.txt\n",
    )
    project.write("app.txt", "v1\n")
    project.config(ecr_config([{"name": "app", "repository": repo}], **top))
    project.commit("first")
    return project


def test_a_cold_runner_reuses_the_dependency_layer_from_the_registry(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    registry: Registry,
    docker_client: Any,
) -> None:
    nonce = uuid.uuid4().hex
    repo = f"{prefix}/app"
    project = _project(make_project, repo, nonce)
    first = run_cli(project, env, "-v", "run", "--only", "build,push", merged=True, timeout=300)
    assert first.code == 0, first.output
    assert not step_cached(first.output, nonce)  # nobody had it: it ran

    remove_images(docker_client, f"/{prefix}/")
    assert forget_build_cache(nonce) >= 1  # the engine is now cold for this step

    project.write("app.txt", "v2\n")
    sha = project.commit("change the app only")
    second = run_cli(project, env, "-v", "run", "--only", "build,push", merged=True, timeout=300)
    assert second.code == 0, second.output
    assert "importing cache manifest" in second.output, second.output
    assert step_cached(second.output, nonce), second.output
    assert "layer cache from" in second.output and ":sha-" in second.output  # the parent's image
    files = registry.files(repo, f"sha-{sha[:7]}")
    assert files["/app.txt"] == b"v2\n"
    assert files["/deps.txt"] == f"{nonce}\n".encode()


def test_a_missing_cache_image_and_an_unreachable_registry_fall_back_to_a_clean_build(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    registry: Registry,
) -> None:
    nonce = uuid.uuid4().hex
    repo = f"{prefix}/app"
    host = env["PIPELINE_REGISTRY_HOST"]
    # nothing under these names anywhere: a missing image, and a port that answers nobody
    listed = [f"{host}/{repo}:nothing-here", "127.0.0.1:9/none/such:1"]
    project = _project(make_project, repo, nonce, cache={"from": listed})
    result = run_cli(project, env, "-v", "run", "--only", "build,push", merged=True, timeout=300)
    assert result.code == 0, result.output
    assert not step_cached(result.output, nonce)
    assert registry.files(repo, f"sha-{project.head[:7]}")["/app.txt"] == b"v1\n"


def test_cache_false_builds_without_cache_metadata(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    registry: Registry,
) -> None:
    repo = f"{prefix}/app"
    project = _project(make_project, repo, uuid.uuid4().hex, cache=False)
    result = run_cli(project, env, "-v", "run", "--only", "build,push", merged=True, timeout=300)
    assert result.code == 0, result.output
    config = registry.config(repo, f"sha-{project.head[:7]}")
    assert "moby.buildkit.cache.v0" not in config
    assert "layer cache from" not in result.output


def test_the_classic_builder_pulls_its_cache_candidates(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    registry: Registry,
    docker_client: Any,
) -> None:
    repo = f"{prefix}/app"
    project = _project(make_project, repo, uuid.uuid4().hex)
    classic = {**env, "PIPELINE_BUILDER": "classic"}
    first = run_cli(project, classic, "run", "--only", "build,push", merged=True, timeout=300)
    assert first.code == 0, first.output
    remove_images(docker_client, f"/{prefix}/")  # the classic builder's cache is its images

    project.write("app.txt", "v2\n")
    sha = project.commit("change the app only")
    second = run_cli(
        project, classic, "-v", "run", "--only", "build,push", merged=True, timeout=300
    )
    assert second.code == 0, second.output
    assert "pulled cache image" in second.output, second.output
    assert "Using cache" in second.output, second.output
    assert registry.files(repo, f"sha-{sha[:7]}")["/app.txt"] == b"v2\n"
