"""An image FROM a private base in the sandbox's ECR builds through docker-credential-pipeline.

No `docker login` anywhere: the build's own DOCKER_CONFIG names the helper
for the registry, and the helper fetches the emulated ECR's token when docker
asks. The same build with a plain docker config cannot pull the base.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.integration.build.cold import DOCKER
from tests.integration.run.support import (
    Project,
    Registry,
    Token,
    ecr_config,
    files_containing,
    run_cli,
)


def _push_base(docker_client: Any, ecr: Any, host: str, repo: str, token: Token) -> str:
    ecr.create_repository(repositoryName=repo)
    ref = f"{host}/{repo}"
    docker_client.images.get("local/busybox:1").tag(ref, "1")
    auth = {"username": token.username, "password": token.password}
    for chunk in docker_client.images.push(ref, "1", auth_config=auth, stream=True, decode=True):
        assert "error" not in chunk, chunk
    docker_client.images.remove(f"{ref}:1")  # only a pull can bring it back now
    return f"{ref}:1"


def test_a_private_base_image_builds_and_pushes_through_the_helper(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    registry: Registry,
    token: Token,
    docker_client: Any,
    ecr: Any,
    home: Path,
    tmp_path: Path,
) -> None:
    host = env["PIPELINE_REGISTRY_HOST"]
    base = _push_base(docker_client, ecr, host, f"{prefix}/base", token)
    nonce = uuid.uuid4().hex
    project = make_project("app")
    project.write(
        "Dockerfile",
        f"ARG BASE=nothing\nFROM $BASE\nRUN echo {nonce} > /n.txt\n",
    )
    repo = f"{prefix}/app"
    project.config(ecr_config([{"name": "app", "repository": repo, "build_args": {"BASE": base}}]))
    project.commit("first")

    # without the helper: a plain docker config has no login for the registry
    empty = tmp_path / "plain-docker"
    empty.mkdir()
    plain = subprocess.run(
        [
            DOCKER,
            "build",
            "--build-arg",
            f"BASE={base}",
            "-t",
            f"{host}/{repo}:plain",
            str(project.root),
        ],
        env={**env, "DOCKER_BUILDKIT": "1", "DOCKER_CONFIG": str(empty)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert plain.returncode != 0, plain.stdout + plain.stderr
    said = (plain.stdout + plain.stderr).lower()
    assert "unauthorized" in said or "no basic auth" in said or "401" in said, said

    result = run_cli(project, env, "run", "--only", "build,push", merged=True, timeout=300)
    assert result.code == 0, result.output
    files = registry.files(repo, f"sha-{project.head[:7]}")
    assert files["/n.txt"] == f"{nonce}\n".encode()
    # nothing the run left behind holds the token: not HOME, not the temp folders
    assert files_containing([home], token.values) == []
    assert not (home / ".docker" / "config.json").exists()


def test_credential_helper_install_prints_the_hosts_line(
    make_project: Callable[[str], Project], env: dict[str, str], prefix: str
) -> None:
    project = make_project("app")
    project.write("Dockerfile", "FROM public.ecr.aws/docker/library/alpine:3\n")
    config = ecr_config(
        [{"name": "app", "repository": f"{prefix}/app"}],
    )
    config["registry"]["pull_from"] = ["987654321098.dkr.ecr.eu-west-1.amazonaws.com"]
    project.config(config)
    result = run_cli(project, env, "credential-helper", "install", report=False)
    assert result.code == 0, result.describe()
    line = json.loads(result.stdout)
    assert line["credHelpers"] == {
        h: "pipeline"
        for h in (
            env["PIPELINE_REGISTRY_HOST"],
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "987654321098.dkr.ecr.eu-west-1.amazonaws.com",
            "public.ecr.aws",
        )
    }
