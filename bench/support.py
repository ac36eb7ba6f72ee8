"""Fixtures for the benchmarks: repositories, projects, the sandbox and the raw script."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from types import TracebackType
from typing import Any

PY = sys.executable
DOCKER = "/usr/bin/docker" if os.access("/usr/bin/docker", os.X_OK) else "docker"
ACCOUNT = "123456789012"

TAGS_CONFIG = """\
version: 1
registry: {type: ecr, account: "123456789012", region: us-east-1}
default_branch: main
tags:
  - {type: semver, pattern: "{{version}}"}
  - {type: semver, pattern: "{{major}}.{{minor}}"}
  - {type: branch}
  - {type: sha}
images:
  - {name: app, repository: bench/app}
"""

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The machine's env minus anything that would make the run look like CI."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "CODEBUILD_", "PIPELINE_", "AWS_"))
    }
    env.update(GIT_ENV)
    env.update(extra or {})
    return env


def run(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin: bytes | None = None,
) -> str:
    out = subprocess.run(cmd, env=env, cwd=cwd, input=stdin, capture_output=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stderr.decode()[-3000:]}"
        )
    return out.stdout.decode()


def git(repo: Path, *args: str) -> str:
    return run(["git", "-C", str(repo), *args], env=clean_env())


def big_repo(path: Path, *, commits: int, tags: int) -> Path:
    """A repository with many commits and tags, written with git fast-import."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    lines: list[str] = []
    every = commits // tags
    for i in range(1, commits + 1):
        lines += [
            "commit refs/heads/main",
            f"mark :{i}",
            f"committer bench <bench@example.invalid> {1_600_000_000 + i} +0000",
            "data 8",
            f"c{i:06d}",
            *([f"from :{i - 1}"] if i > 1 else []),
            "M 644 inline file.txt",
            f"data {len(str(i))}",
            str(i),
            "",
        ]
    for n in range(tags):
        target = (n + 1) * every
        lines += [f"reset refs/tags/v{n // 100}.{n % 100}.0", f"from :{target}", ""]
    data = ("\n".join(lines) + "\n").encode()
    run(["git", "-C", str(path), "fast-import", "--quiet"], env=clean_env(), stdin=data)
    git(path, "checkout", "-q", "main")
    return path


def project(path: Path, dockerfiles: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    for name, text in dockerfiles.items():
        (path / name).mkdir()
        (path / name / "Dockerfile").write_text(text)
    git(path, "init", "-q", "-b", "main")
    return path


def commit_and_tag(path: Path, tag: str, ignore: list[str] | None = None) -> None:
    (path / ".gitignore").write_text(
        "\n".join(["report.json", "pipeline.yaml", *(ignore or [])]) + "\n"
    )
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "bench")
    git(path, "tag", tag)


def random_file(path: Path, size: int) -> None:
    with path.open("wb") as out:
        remaining = size
        while remaining:
            chunk = os.urandom(min(remaining, 1 << 20))
            out.write(chunk)
            remaining -= len(chunk)


#: This bench run's mark: its build steps mention it and its local images carry it, so
#: "cold" can remove exactly what this run made on the shared engine and nothing else.
RUN_ID = f"bench{uuid.uuid4().hex[:10]}"


def cold_runner(host: str) -> None:
    """What a fresh CI runner has: no images but the base, none of our build cache.

    The engine is shared: only the images this run made (pushed to this sandbox's
    `host`, or named with RUN_ID) are removed, and only the build-cache records of
    steps that mention RUN_ID (and the records built on them) are pruned, by id,
    the way the cold-cache tests do (tests/integration/build/cold.py)."""
    from tests.integration.build.cold import forget_build_cache

    images = run([DOCKER, "images", "--format", "{{.Repository}}:{{.Tag}}"]).split()
    doomed = [i for i in images if i.startswith(f"{host}/") or RUN_ID in i]
    if doomed:
        run([DOCKER, "image", "rm", "-f", *doomed])
    forget_build_cache(RUN_ID)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "docker": run([DOCKER, "version", "--format", "{{.Server.Version}}"]).strip(),
    }


class Box:
    """The sandbox plus the two ways of publishing images that are compared."""

    def __init__(self, state: Path) -> None:
        from pipeline.sandbox import Ports, Sandbox

        self.sandbox = Sandbox(state)
        self.sandbox.up(Ports.free())
        self.env = self.sandbox.env()
        self.host = self.env["PIPELINE_REGISTRY_HOST"]
        self.docker_config = state.parent / "docker-config"
        self.docker_config.mkdir(exist_ok=True)
        self.raw_login()

    def __enter__(self) -> Box:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.sandbox.down()
        shutil.rmtree(self.docker_config, ignore_errors=True)

    def _ecr(self) -> Any:
        import boto3

        return boto3.client(
            "ecr",
            region_name=self.env["AWS_REGION"],
            endpoint_url=self.env["AWS_ENDPOINT_URL"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def create_repository(self, name: str) -> None:
        self._ecr().create_repository(repositoryName=name)

    def raw_login(self) -> None:
        """`aws ecr get-login-password | docker login --password-stdin`, as every CI job does.

        The token comes from a one-line boto3 call, which starts faster than
        the aws CLI would: if anything, this flatters the raw script.
        """
        fetch = (
            "import base64, boto3; t = boto3.client('ecr').get_authorization_token()"
            "['authorizationData'][0]['authorizationToken'];"
            " print(base64.b64decode(t).decode().partition(':')[2])"
        )
        password = run([PY, "-c", fetch], env=clean_env(self.env)).strip()
        run(
            [
                DOCKER,
                "--config",
                str(self.docker_config),
                "login",
                "-u",
                "AWS",
                "--password-stdin",
                self.host,
            ],
            stdin=password.encode(),
        )

    def raw_script(self, context: Path, repo: str, tags: list[str]) -> None:
        """What users write by hand: build with every tag, then push every tag."""
        refs = [f"{self.host}/{repo}:{t}" for t in tags]
        env = clean_env({"DOCKER_BUILDKIT": "1", "DOCKER_CONFIG": str(self.docker_config)})
        args = [a for ref in refs for a in ("-t", ref)]
        run([DOCKER, "build", "-q", *args, str(context)], env=env)
        for ref in refs:
            run([DOCKER, "push", ref], env=env)

    def raw_builds(self, project: Path, names: list[str]) -> None:
        """Build each image one after another, as a simple script does."""
        env = clean_env({"DOCKER_BUILDKIT": "1"})
        for name in names:
            ref = f"bench-seq-{RUN_ID}/{name}:1"
            run([DOCKER, "build", "-q", "-t", ref, str(project / name)], env=env)

    def pipeline_run(self, project: Path, repos: dict[str, str], only: str = "build,push") -> None:
        images = "\n".join(
            f"  - {{name: {name}, repository: {repo}, context: {name}}}"
            for name, repo in repos.items()
        )
        (project / "pipeline.yaml").write_text(
            "version: 1\n"
            f'registry: {{type: ecr, account: "{ACCOUNT}", region: us-east-1,'
            " create_repositories: true}\n"
            "latest: never\n"
            "tags: [{type: sha}, {type: semver}]\n"
            f"images:\n{images}\n"
        )
        env = clean_env(self.env)
        run(
            [
                PY,
                "-m",
                "pipeline",
                "-q",
                "-f",
                str(project / "pipeline.yaml"),
                "run",
                "--only",
                only,
            ],
            env=env,
            cwd=project,
        )
