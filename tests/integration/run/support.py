"""Helpers for the `pipeline run` tests: temporary git projects, the CLI, the sandbox.

Every test drives the real command (`python -m pipeline ...` in a subprocess)
against the session sandbox and the machine's dockerd, in an environment
cleaned of the developer's CI and pipeline variables.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeline.sandbox.distribution import MANIFEST_TYPES
from tests.integration.sandbox.support import RegistryHttp
from tests.integration.sandboxes import aws_client

ACCOUNT = "123456789012"
REPO_ROOT = Path(__file__).resolve().parents[3]
# What a developer's shell may carry that would change what a run does.
_STRIPPED_PREFIXES = ("GITHUB_", "CODEBUILD_", "PIPELINE_", "AWS_", "GIT_", "RUNNER_")
_STRIPPED = ("CI", "KUBECONFIG", "DOCKER_CONFIG", "DOCKER_BUILDKIT")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def clean_env(sandbox: Mapping[str, str], home: Path, **extra: str) -> dict[str, str]:
    """The developer's environment minus CI/pipeline/AWS variables, plus the sandbox's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(_STRIPPED_PREFIXES) and k not in _STRIPPED
    }
    tmp = home / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env.update(GIT_ENV)
    env.update(sandbox)
    # HOME, DOCKER_CONFIG and TMPDIR inside the test's folder: whatever a run
    # writes there can be inspected afterwards, and nothing reaches the real ~.
    env.update(HOME=str(home), TMPDIR=str(tmp), PYTHONPATH=str(REPO_ROOT))
    env.update(extra)
    return env


# --------------------------------------------------------------------------- projects


class Project:
    """A temporary git repository with a Dockerfile and a pipeline.yaml."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        out = subprocess.run(
            ["git", *args],
            cwd=self.root,
            env={**os.environ, **GIT_ENV},
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def config(self, config: Mapping[str, Any]) -> Path:
        return self.write("pipeline.yaml", yaml.safe_dump(dict(config), sort_keys=False))

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head

    def tag(self, name: str) -> None:
        self.git("tag", "-a", name, "-m", name)

    @property
    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


def ecr_config(
    images: list[dict[str, Any]],
    *,
    create: bool = True,
    repository: Mapping[str, Any] | None = None,
    tags: list[dict[str, Any]] | None = None,
    **top: Any,
) -> dict[str, Any]:
    """A pipeline.yaml for the sandbox's ECR (account 123456789012)."""
    registry: dict[str, Any] = {
        "type": "ecr",
        "account": ACCOUNT,
        "region": "us-east-1",
        "create_repositories": create,
    }
    if repository:
        registry["repository"] = dict(repository)
    return {
        "version": 1,
        "registry": registry,
        "tags": tags if tags is not None else [{"type": "sha"}, {"type": "branch"}],
        "latest": top.pop("latest", "always"),
        "default_branch": top.pop("default_branch", "main"),
        **top,
        "images": images,
    }


# --------------------------------------------------------------------------- the CLI


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    seconds: float
    report_path: Path | None = None

    @property
    def report_text(self) -> str:
        assert self.report_path is not None and self.report_path.is_file(), self.describe()
        return self.report_path.read_text()

    @property
    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.report_text)
        return data

    def image(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = next(i for i in self.report["images"] if i["name"] == name)
        return found

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def pipeline_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", *args]


def run_cli(
    project: Project,
    env: Mapping[str, str],
    *args: str,
    report: bool = True,
    timeout: float = 120.0,
    merged: bool = False,
) -> Result:
    """`python -m pipeline ARGS` in the project; `--report` into the test's folder.

    `merged`: stderr into stdout, in the order a CI log shows them.
    """
    argv = list(args)
    report_path = None
    if report:
        report_path = project.root.parent / f"report-{time.monotonic_ns()}.json"
        argv += ["--report", str(report_path)]
    started = time.monotonic()
    out = subprocess.run(
        pipeline_argv(*argv),
        cwd=project.root,
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merged else subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(
        out.returncode, out.stdout, out.stderr or "", time.monotonic() - started, report_path
    )


# --------------------------------------------------------------------------- AWS and registry


def ecr_client(sandbox: Mapping[str, str]) -> Any:
    return aws_client(sandbox, "ecr")


@dataclass(frozen=True)
class Token:
    """The emulated ECR's authorization token, as a client decodes it."""

    token: str  # base64("AWS:<password>")
    username: str
    password: str

    @property
    def values(self) -> tuple[str, str]:
        return (self.token, self.password)


def ecr_token(ecr: Any) -> Token:
    data = ecr.get_authorization_token()["authorizationData"][0]
    token = data["authorizationToken"]
    username, _, password = base64.b64decode(token).decode().partition(":")
    return Token(token, username, password)


def image_tags(ecr: Any, repository: str) -> dict[str, set[str]]:
    """digest -> tags, as ECR's DescribeImages lists them."""
    out: dict[str, set[str]] = {}
    for page in ecr.get_paginator("describe_images").paginate(
        repositoryName=repository, registryId=ACCOUNT
    ):
        for detail in page["imageDetails"]:
            out[detail["imageDigest"]] = set(detail.get("imageTags") or [])
    return out


def listed(ecr: Any, repository: str) -> list[dict[str, str]]:
    ids: list[dict[str, str]] = ecr.list_images(repositoryName=repository, registryId=ACCOUNT)[
        "imageIds"
    ]
    return ids


@dataclass
class Registry:
    """The sandbox registry read directly (plain HTTP, ECR's password)."""

    http: RegistryHttp
    blobs: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def of(cls, host: str, token: Token) -> Registry:
        return cls(RegistryHttp(host, token.username, token.password))

    def digest(self, repository: str, reference: str) -> str | None:
        status, digest, _ = self.http.manifest(repository, reference)
        return digest if status == 200 else None

    def tags(self, repository: str) -> list[str]:
        status, _, body = self.http.call("GET", f"/v2/{repository}/tags/list")
        if status == 404:
            return []
        assert status == 200, body
        return sorted(json.loads(body).get("tags") or [])

    def manifest(self, repository: str, reference: str) -> dict[str, Any]:
        status, _, body = self.http.call(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        assert status == 200, (status, body)
        doc: dict[str, Any] = json.loads(body)
        return doc

    def blob(self, repository: str, digest: str) -> bytes:
        if digest not in self.blobs:
            status, _, body = self.http.call("GET", f"/v2/{repository}/blobs/{digest}")
            assert status == 200, (status, digest)
            assert "sha256:" + hashlib.sha256(body).hexdigest() == digest
            self.blobs[digest] = body
        return self.blobs[digest]

    def config(self, repository: str, reference: str) -> dict[str, Any]:
        manifest = self.manifest(repository, reference)
        doc: dict[str, Any] = json.loads(self.blob(repository, manifest["config"]["digest"]))
        return doc

    def files(self, repository: str, reference: str) -> dict[str, bytes]:
        """Every regular file of the image's layers (later layers win), by path."""
        out: dict[str, bytes] = {}
        for layer in self.manifest(repository, reference)["layers"]:
            for name, data in _layer_files(self.blob(repository, layer["digest"])):
                out[name] = data
        return out

    def raw(self, repository: str, reference: str) -> Iterator[bytes]:
        """The config and every layer, uncompressed: for grepping."""
        manifest = self.manifest(repository, reference)
        yield self.blob(repository, manifest["config"]["digest"])
        for layer in manifest["layers"]:
            yield _gunzip(self.blob(repository, layer["digest"]))


def _gunzip(data: bytes) -> bytes:
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _layer_files(blob: bytes) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(_gunzip(blob))) as tar:
        for member in tar:
            if member.isfile():
                handle = tar.extractfile(member)
                assert handle is not None
                yield "/" + member.name.lstrip("./"), handle.read()


# --------------------------------------------------------------------------- secrets on disk


def files_containing(roots: list[Path], needles: tuple[str, ...]) -> list[str]:
    """Every file under these folders whose bytes contain one of the needles."""
    wanted = [n.encode() for n in needles if n]
    hits = []
    for root in roots:
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if path.is_symlink() or not path.is_file():
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if any(n in data for n in wanted):
                hits.append(str(path))
    return hits


def remove_images(client: Any, marker: str) -> None:
    """Removes the local references (tags, and repo digests left by a push) with `marker`.

    By reference, never by image id: an image also tagged elsewhere (the base
    image a test tagged under its prefix) keeps its other names.
    """
    import docker

    # The raw list, not images.list(): that inspects each image in turn, and an image
    # another test removes in between (the engine is shared) fails the teardown.
    for image in client.api.images():
        refs = [t for t in image.get("RepoTags") or [] if marker in t]
        refs += [d for d in image.get("RepoDigests") or [] if marker in d]
        for ref in refs:
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(ref)
