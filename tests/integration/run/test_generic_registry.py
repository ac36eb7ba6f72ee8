"""A generic OCI registry: credentials from named env vars or the docker config, tags by PUT.

The sandbox's registry stands in for any registry (htpasswd auth). Its front
proxy keeps ECR's manners, so the repository is created in the emulated ECR
first; everything the pipeline does here is plain OCI distribution API.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.run.support import Project, Registry, Token, files_containing, run_cli

BASE = "FROM local/busybox:1\nRUN echo generic > /kind\n"


def _config(host: str, repo: str, **registry: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "registry": {"type": "generic", "url": f"{host}/{repo.partition('/')[0]}", **registry},
        "tags": [{"type": "sha"}, {"type": "raw", "value": "build-{{sha}}"}, {"type": "branch"}],
        "latest": "never",
        "images": [{"name": "app", "repository": repo.split("/", 1)[1]}],
    }


@pytest.mark.parametrize("source", ["env", "docker-config"])
def test_generic_registry_push_and_tag_by_manifest(
    source: str,
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
    registry: Registry,
    token: Token,
    home: Path,
) -> None:
    host = env["PIPELINE_REGISTRY_HOST"]
    repo = f"{prefix}/app"
    ecr.create_repository(repositoryName=repo)
    project = make_project("app")
    project.write("Dockerfile", BASE)
    run_env = {k: v for k, v in env.items() if k != "PIPELINE_REGISTRY_HOST"}
    if source == "env":
        project.config(_config(host, repo, username_env="REG_USER", password_env="REG_PASS"))
        run_env.update(REG_USER="AWS", REG_PASS=token.password)
    else:  # what `docker login` leaves behind
        project.config(_config(host, repo))
        auth = base64.b64encode(f"AWS:{token.password}".encode()).decode()
        docker_dir = home / ".docker"
        docker_dir.mkdir(exist_ok=True)
        (docker_dir / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    project.commit("first")

    result = run_cli(project, run_env, "-v", "run", "--only", "build,push")

    assert result.code == 0, result.describe()
    entry = result.image("app")
    sha = project.head[:7]
    assert entry["tags"] == [f"sha-{sha}", f"build-{sha}"]
    assert entry["image"] == f"{host}/{repo}"
    for tag in entry["tags"]:
        assert registry.digest(repo, tag) == entry["digest"]
    assert "main" not in registry.tags(repo)  # the branch tag moves later (promote)
    # no credential of ours in any output or file of the run but the user's own config
    assert token.password not in result.output
    leaks = files_containing([home / "tmp", project.root], token.values)
    assert leaks == [], leaks


def test_generic_registry_missing_credentials_variable_is_a_clear_error(
    make_project: Callable[[str], Project], env: dict[str, str], prefix: str
) -> None:
    host = env["PIPELINE_REGISTRY_HOST"]
    project = make_project("app")
    project.write("Dockerfile", BASE)
    project.config(_config(host, f"{prefix}/app", username_env="REG_USER", password_env="REG_PASS"))
    project.commit("first")
    run_env = {k: v for k, v in env.items() if k != "PIPELINE_REGISTRY_HOST"}

    result = run_cli(project, run_env, "run", "--only", "build,push")

    assert result.code == 2, result.describe()
    assert "REG_USER (named by registry.username_env) is not set" in result.stderr
    assert "REG_PASS (named by registry.password_env) is not set" in result.stderr
    assert result.report_path is not None and not result.report_path.exists()  # refused first
    assert "building" not in result.stderr


def test_generic_registry_every_stage_promotes_the_branch_tag_by_manifest_put(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
    registry: Registry,
    token: Token,
) -> None:
    """No scan API there: the plan has no scan and gate, and promote goes on ungated."""
    host = env["PIPELINE_REGISTRY_HOST"]
    repo = f"{prefix}/app"
    ecr.create_repository(repositoryName=repo)
    project = make_project("app")
    project.write("Dockerfile", BASE)
    project.config(_config(host, repo, username_env="REG_USER", password_env="REG_PASS"))
    project.commit("first")
    run_env = {k: v for k, v in env.items() if k != "PIPELINE_REGISTRY_HOST"}
    run_env.update(REG_USER="AWS", REG_PASS=token.password)

    result = run_cli(project, run_env, "run")  # every stage

    assert result.code == 0, result.describe()
    entry = result.image("app")
    assert registry.digest(repo, "main") == entry["digest"]
    assert entry["pending_tags"] == [] and "main" in entry["tags"]
    assert (entry["gate"], entry["scan"]) == ("skipped", None)
    assert result.report["stages"] == ["build", "push", "promote"]
