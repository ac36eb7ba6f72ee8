"""A release under test: a project with one image `app`, run through `pipeline run`.

The `pipeline run` tests with every stage (scan, gate, promote, deploy) build
the same project: a Dockerfile no other test built (a nonce in it), a
pipeline.yaml for the sandbox's ECR with the image `app` in the test's own
repository, committed. `Release` holds what they share (the project maker,
the environment, the repository prefix) and `script_scan` scripts the
sandbox's next scan of a repository.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.sandbox import Sandbox
from tests.integration.run.support import Project, Result, ecr_config, pipeline_argv, run_cli

#: the finding the release tests script: one CRITICAL CVE in openssl
CVE = "CVE-2031-0042"


@dataclass(frozen=True)
class Release:
    """The fixtures one release test uses, and the project it builds from them."""

    make_project: Callable[[str], Project]
    env: dict[str, str]
    prefix: str

    @property
    def repository(self) -> str:
        """The image's ECR repository (unique to the test)."""
        return f"{self.prefix}/app"

    @property
    def image(self) -> str:
        """The image's name in the sandbox's registry, without tag or digest."""
        return f"{self.env['PIPELINE_REGISTRY_HOST']}/{self.repository}"

    def project(self, message: str = "first", **config: Any) -> Project:
        """A new commit `message` of a fresh Dockerfile and `ecr_config(app, **config)`."""
        project = self.make_project("project")
        nonce = uuid.uuid4().hex
        project.write("Dockerfile", f"FROM local/busybox:1\nRUN echo {nonce} > /nonce\n")
        project.config(ecr_config([{"name": "app", "repository": self.repository}], **config))
        project.commit(message)
        return project

    def run(self, project: Project, *args: str, env: dict[str, str] | None = None) -> Result:
        """`pipeline run ARGS` (every stage unless ARGS say otherwise)."""
        return run_cli(project, self.env if env is None else env, "run", *args, timeout=300)


def critical(cve: str = CVE) -> dict[str, Any]:
    return {
        "name": cve,
        "uri": f"https://cve.example/{cve}",
        "severity": "CRITICAL",
        "attributes": [
            {"key": "package_name", "value": "openssl"},
            {"key": "package_version", "value": "3.0.1"},
        ],
    }


def script_scan(
    sandbox: Sandbox, env: dict[str, str], tmp: Path, repository: str, *extra: str, **doc: Any
) -> None:
    """`pipeline sandbox findings REPOSITORY --file F.json ...`: the next scan's result."""
    path = tmp / f"findings-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(doc))
    argv = ["sandbox", "findings", repository, "--file", str(path), *extra]
    out = subprocess.run(
        pipeline_argv(*argv, "--dir", str(sandbox.dir)),
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
