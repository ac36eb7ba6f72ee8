"""An ECR repository made outside the config, IMMUTABLE, and a config whose tags move.

The config check cannot see such a repository; the run reads its tag mutability
and refuses the next commit (exit 2) before anything is pushed, instead of
pushing the sha tag and failing at promote. The first run, a re-run of the same
commit and, once the repository lets the tags move, the next commit all pass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.run.support import Project, Result, ecr_config, image_tags, run_cli

DOCKERFILE = "FROM local/busybox:1\nCOPY message.txt /message.txt\n"
STAGES = ("run",)  # every stage; the scan is off, so the gate passes and promote runs


def _run(project: Project, env: dict[str, str], *extra: str) -> Result:
    return run_cli(project, env, "-v", *STAGES, *extra)


def test_an_immutable_repository_made_elsewhere_refuses_the_next_commit_before_any_push(
    make_project: Callable[[str], Project], env: dict[str, str], prefix: str, ecr: Any
) -> None:
    repo = f"{prefix}/app"
    ecr.create_repository(repositoryName=repo, imageTagMutability="IMMUTABLE")
    project = make_project("app")
    project.write("Dockerfile", DOCKERFILE)
    project.write("message.txt", "first\n")
    # sha + branch rules, latest: always; no repository settings, nothing to create
    project.config(
        ecr_config([{"name": "app", "repository": repo}], create=False, scan={"enabled": False})
    )
    sha1 = f"sha-{project.commit('first')[:7]}"

    first = _run(project, env)  # the tags do not exist yet: created, not moved
    assert first.code == 0, first.describe()
    digest = first.image("app")["digest"]
    released = {digest: {sha1, "main", "latest"}}
    assert image_tags(ecr, repo) == released

    again = _run(project, env)  # the same commit: main and latest already name its image
    assert again.code == 0, again.describe()
    assert (again.image("app")["reused"], again.image("app")["digest"]) == (True, digest)
    assert image_tags(ecr, repo) == released

    project.write("message.txt", "second\n")
    sha2 = f"sha-{project.commit('second')[:7]}"
    for extra in (("--dry-run",), ()):
        refused = _run(project, env, *extra)
        assert refused.code == 2, refused.describe()
        line = (
            f"ECR repository {repo} is IMMUTABLE: tags 'main', 'latest' move between commits,"
            " but already name another image and the repository will not move them; add an"
            " exclusion filter matching them to the repository, make it MUTABLE, or drop the"
            " rule"
        )
        assert line in refused.stderr, refused.describe()
        assert "Traceback" not in refused.stderr
        assert "building app" not in refused.stderr
        assert image_tags(ecr, repo) == released  # no sha2, nothing moved

    # the fix the line names: an exclusion filter matching the tags that move
    ecr.put_image_tag_mutability(
        repositoryName=repo,
        imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
        imageTagMutabilityExclusionFilters=[
            {"filterType": "WILDCARD", "filter": t} for t in ("main", "latest")
        ],
    )
    fixed = _run(project, env)
    assert fixed.code == 0, fixed.describe()
    new = fixed.image("app")["digest"]
    assert image_tags(ecr, repo) == {digest: {sha1}, new: {sha2, "main", "latest"}}
