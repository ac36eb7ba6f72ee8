"""Build order, parallel builds, failed builds, missing repositories and dry runs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.run.support import (
    ACCOUNT,
    Project,
    ecr_config,
    listed,
    run_cli,
)

SIMPLE = "FROM local/busybox:1\nRUN echo {name} > /name\n"


def _index(lines: list[str], text: str) -> int:
    found = [i for i, line in enumerate(lines) if line.startswith(text)]
    assert len(found) == 1, (text, lines)
    return found[0]


def test_dependencies_first_independent_images_in_parallel(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    docker_client: Any,
) -> None:
    project = make_project("app")
    for name in ("one", "two"):
        project.write(f"{name}/Dockerfile", SIMPLE.format(name=name))
    # `three` is built FROM `one`, so it can only build once `one` exists locally.
    project.write(
        "three/Dockerfile",
        "ARG BASE\nFROM ${BASE}\nRUN cat /name > /base-name && echo three > /name\n",
    )
    images = [
        {
            "name": "three",
            "repository": f"{prefix}/three",
            "context": "three",
            "depends_on": ["one", "two"],
            "build_args": {"BASE": "${PIPELINE_REGISTRY_HOST}/" + prefix + "/one:main"},
        },
        {"name": "one", "repository": f"{prefix}/one", "context": "one"},
        {"name": "two", "repository": f"{prefix}/two", "context": "two"},
    ]
    project.config(ecr_config(images))
    project.commit("three images")

    result = run_cli(project, env, "-v", "run", "--only", "build,push")

    assert result.code == 0, result.describe()
    # piped: each line starts with its UTC time (docs/terminal.md)
    lines = [re.sub(r"^\S+Z ", "", line) for line in result.stderr.splitlines()]
    start = {n: _index(lines, f"building {n} ") for n in ("one", "two", "three")}
    end = {n: _index(lines, f"built {n}: ") for n in ("one", "two", "three")}
    # one and two overlap: both started before either finished
    assert max(start["one"], start["two"]) < min(end["one"], end["two"])
    # three waits for both of its dependencies
    assert start["three"] > max(end["one"], end["two"])
    three = result.image("three")
    assert three["built"] and three["pushed"]
    out = docker_client.containers.run(
        f"{env['PIPELINE_REGISTRY_HOST']}/{prefix}/three:{three['tags'][0]}",
        "cat /base-name /name",
        remove=True,
    )
    assert out == b"one\nthree\n"


FAILURES = {
    # (a missing Dockerfile is a configuration error now, found before any build)
    "bad-instruction": (
        {},
        "FROM local/busybox:1\nFRUM nothing\n",
        "unknown instruction: FRUM",
    ),
    "failing-run": (
        {},
        "FROM local/busybox:1\nRUN echo the step that fails >&2 && exit 3\n",
        "the step that fails",  # the command's own output, not only its exit code
    ),
    "unknown-target": (
        {"target": "nope"},
        "FROM local/busybox:1 AS runtime\nRUN true\n",
        "target stage nope could not be found",
    ),
}


@pytest.mark.parametrize("kind", list(FAILURES))
def test_a_failed_build_pushes_nothing(
    kind: str,
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
) -> None:
    options, dockerfile, message = FAILURES[kind]
    project = make_project("app")
    project.write("good/Dockerfile", SIMPLE.format(name="good"))
    project.write("bad/Dockerfile", dockerfile)
    images = [
        {"name": "good", "repository": f"{prefix}/good", "context": "good"},
        {"name": "bad", "repository": f"{prefix}/bad", "context": "bad", **options},
        {
            "name": "after",
            "repository": f"{prefix}/after",
            "context": "good",
            "depends_on": ["bad"],
        },
    ]
    project.config(ecr_config(images))
    project.commit("one image fails")

    result = run_cli(project, env, "run", "--only", "build,push")

    assert result.code == 1, result.describe()
    assert message in result.stderr, result.describe()
    report = result.report
    assert report["status"] == "failed"
    assert message in result.image("bad")["error"]
    assert "load .dockerignore" not in result.image("bad")["error"]  # progress is not the reason
    assert result.image("good")["built"] is True
    assert result.image("after")["error"] == "not built: bad failed"
    for entry in report["images"]:
        assert entry["pushed"] is False and entry["digest"] is None
    for name in ("good", "bad", "after"):
        assert listed(ecr, f"{prefix}/{name}") == []


def test_missing_repository_fails_before_any_build(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
    docker_client: Any,
) -> None:
    project = make_project("app")
    project.write("Dockerfile", SIMPLE.format(name="app"))
    repo = f"{prefix}/app"
    project.config(ecr_config([{"name": "app", "repository": repo}], create=False))
    project.commit("first")

    result = run_cli(project, env, "-v", "run", "--only", "build,push")

    assert result.code == 1, result.describe()
    assert repo in result.stderr
    assert "create_repositories: true" in result.stderr
    assert "building" not in result.stderr
    assert not [i for i in docker_client.images.list() if any(repo in t for t in i.tags)]
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.describe_repositories(repositoryNames=[repo], registryId=ACCOUNT)


LIFECYCLE = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "expire untagged images",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 14,
            },
            "action": {"type": "expire"},
        }
    ]
}


def test_repositories_are_created_with_the_configured_settings(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
) -> None:
    import json

    project = make_project("app")
    project.write("Dockerfile", SIMPLE.format(name="app"))
    project.write("ecr-lifecycle.json", json.dumps(LIFECYCLE))
    repo = f"{prefix}/app"
    settings = {
        "scan_on_push": True,
        "tag_mutability": "IMMUTABLE",
        "mutable_tags": ["latest", "main"],
        "encryption": {"type": "KMS", "kms_key": "alias/ecr-test"},
        "lifecycle_policy": "ecr-lifecycle.json",
    }
    project.config(
        ecr_config(
            [{"name": "app", "repository": repo}],
            repository=settings,
            tags=[{"type": "sha"}, {"type": "raw", "value": "main", "when": "default_branch"}],
        )
    )
    project.commit("first")

    result = run_cli(project, env, "run", "--only", "build,push")

    assert result.code == 0, result.describe()
    described = ecr.describe_repositories(repositoryNames=[repo], registryId=ACCOUNT)
    created = described["repositories"][0]
    assert created["imageScanningConfiguration"] == {"scanOnPush": True}
    assert created["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
    assert created["imageTagMutabilityExclusionFilters"] == [
        {"filterType": "WILDCARD", "filter": "latest"},
        {"filterType": "WILDCARD", "filter": "main"},
    ]
    assert created["encryptionConfiguration"]["encryptionType"] == "KMS"
    assert created["encryptionConfiguration"]["kmsKey"] == "alias/ecr-test"
    policy = ecr.get_lifecycle_policy(repositoryName=repo, registryId=ACCOUNT)
    assert json.loads(policy["lifecyclePolicyText"]) == LIFECYCLE


def test_dry_run_changes_nothing_and_says_what_it_would_do(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    ecr: Any,
    docker_client: Any,
) -> None:
    project = make_project("app")
    project.write("Dockerfile", SIMPLE.format(name="app"))
    repo = f"{prefix}/app"
    project.config(ecr_config([{"name": "app", "repository": repo}]))
    sha = project.commit("first")

    result = run_cli(project, env, "run", "--only", "build,push", "--dry-run")

    assert result.code == 0, result.describe()
    host = env["PIPELINE_REGISTRY_HOST"]
    assert f"would create ECR repository {repo}" in result.stderr
    assert "would build app with " in result.stderr
    assert f"would push {host}/{repo}:sha-{sha[:7]}" in result.stderr
    assert result.report["dry_run"] is True
    assert result.image("app")["built"] is False and result.image("app")["pushed"] is False
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.describe_repositories(repositoryNames=[repo], registryId=ACCOUNT)
    assert not [i for i in docker_client.images.list() if any(repo in t for t in i.tags)]
