"""`pipeline release --bump ...` against the sandbox: the tag, then the run for it.

The release is a local script: it creates the next annotated tag on HEAD and runs
the pipeline for `refs/tags/<tag>`, with or without `--push` (which only decides
whether origin gets the tag first). These tests check what lands in ECR.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.run.releases import Release
from tests.integration.run.support import Project, image_tags, run_cli

SEMVER = [
    {"type": "semver", "pattern": "{{version}}"},
    {"type": "semver", "pattern": "{{major}}.{{minor}}"},
    {"type": "sha"},
]


@pytest.fixture
def release(make_project: Callable[[str], Project], env: dict[str, str], prefix: str) -> Release:
    return Release(make_project, env, prefix)


def released_once(release: Release) -> Project:
    """v1.2.3 on the first commit, and one more commit on main to release."""
    project = release.project("first", tags=SEMVER, latest="auto", scan={"enabled": False})
    project.tag("v1.2.3")
    project.write("CHANGES", "the next release\n")
    project.commit("next")
    return project


def test_release_tags_head_then_runs_the_pipeline_for_the_tag_without_push(
    release: Release, ecr: Any
) -> None:
    project = released_once(release)

    result = run_cli(project, release.env, "release", "--bump", "patch", timeout=300)

    assert result.code == 0, result.describe()
    assert result.stdout.splitlines()[0] == "v1.2.4"
    assert project.git("rev-parse", "v1.2.4^{commit}") == project.head
    assert project.git("cat-file", "-t", "v1.2.4") == "tag"
    digest = result.image("app")["digest"]
    short = project.head[:7]
    assert image_tags(ecr, release.repository) == {
        digest: {"1.2.4", "1.2", f"sha-{short}", "latest"}
    }
    assert result.report["status"] == "ok"


def test_release_with_no_run_tags_only_and_pushes_no_image(release: Release, ecr: Any) -> None:
    project = released_once(release)

    result = run_cli(project, release.env, "release", "--bump", "minor", "--no-run", report=False)

    assert result.code == 0, result.describe()
    assert result.stdout == "v1.3.0\n"
    assert project.git("rev-parse", "v1.3.0^{commit}") == project.head
    # the run would have created the repository
    with pytest.raises(ecr.exceptions.RepositoryNotFoundException):
        ecr.describe_repositories(repositoryNames=[release.repository])
