"""The registry token: fetched, used, and never shown or written anywhere.

The token comes from the emulated ECR's GetAuthorizationToken (as the
pipeline gets it); both its base64 form and the decoded password are
looked for everywhere a run could leave them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tests.integration.run.support import (
    Project,
    Token,
    ecr_config,
    files_containing,
    run_cli,
)

DOCKERFILE = "FROM local/busybox:1\nRUN echo credentials > /name\n"


def _project(make_project: Callable[[str], Project], prefix: str) -> Project:
    project = make_project("app")
    project.write("Dockerfile", DOCKERFILE)
    project.config(
        ecr_config(
            [{"name": "app", "repository": f"{prefix}/app"}],
            outputs={"report": "pipeline-report.json"},
        )
    )
    project.commit("first")
    return project


def test_the_token_appears_in_no_output_and_no_file(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    home: Path,
    prefix: str,
    token: Token,
    tmp_path: Path,
) -> None:
    project = _project(make_project, prefix)

    result = run_cli(project, env, "-vv", "run", "--only", "build,push")

    assert result.code == 0, result.describe()
    assert result.image("app")["pushed"] is True  # it did log in and push
    for value in token.values:
        assert value not in result.stdout
        assert value not in result.stderr
        assert value not in result.report_text
    # the project, HOME (with ~/.docker) and TMPDIR all live under tmp_path
    assert Path(env["TMPDIR"]).is_relative_to(tmp_path)
    assert Path(env["HOME"]) == home
    assert files_containing([tmp_path], token.values) == []
    docker_config = home / ".docker"
    written = sorted(p.name for p in docker_config.rglob("*")) if docker_config.exists() else []
    assert "config.json" not in written, written


def test_github_actions_masks_the_token_before_anything_else(
    make_project: Callable[[str], Project],
    env: dict[str, str],
    prefix: str,
    token: Token,
    tmp_path: Path,
) -> None:
    # A build that prints the password (someone passed it as a build argument):
    # the line reaches the log, with the value masked.
    project = make_project("app")
    project.write(
        "Dockerfile",
        'FROM local/busybox:1\nARG NONCE\nARG LEAK\nRUN echo "$NONCE printed: $LEAK"\n',
    )
    nonce = os.urandom(6).hex()
    project.config(
        ecr_config(
            [
                {
                    "name": "app",
                    "repository": f"{prefix}/app",
                    "build_args": {"NONCE": nonce, "LEAK": "${LEAKED_BY_MISTAKE}"},
                }
            ],
            outputs={"report": "pipeline-report.json"},
        )
    )
    project.commit("first")
    github = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_SHA": project.head,
        "GITHUB_REPOSITORY": "acme/app",
    }

    # stdout and stderr in one stream, in the order the runner's log gets them
    leak = {"LEAKED_BY_MISTAKE": token.password}
    result = run_cli(
        project, {**env, **github, **leak}, "-vv", "run", "--only", "build,push", merged=True
    )

    assert result.code == 0, result.describe()
    lines = result.stdout.splitlines()
    masks = [i for i, line in enumerate(lines) if line.startswith("::add-mask::")]
    assert masks, result.describe()
    for value in token.values:
        mentions = [i for i, line in enumerate(lines) if value in line]
        # the only lines that carry the value are its own ::add-mask:: command...
        assert [lines[i] for i in mentions] == [f"::add-mask::{value}"], result.describe()
    # ...and they come first, before any other line of the run (README: "before
    # anything else is printed"), so no later line can show the value.
    assert masks == list(range(len(masks))), result.describe()
    assert [line for line in lines if f"{nonce} printed: ***" in line], result.describe()
    assert files_containing([tmp_path], token.values) == []
    assert token.password not in result.report_text
