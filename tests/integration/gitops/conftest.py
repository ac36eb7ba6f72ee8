"""Real git repositories for the write-back: a bare "remote", clones of it, no global config."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.gitrepo import ISOLATION, GitRepo, leaked_git_vars

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/myapp/backend"

KUSTOMIZATION = f"""\
# prod overlay: comments and order must survive
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml   # the app
images:
  - name: backend
    newName: {REPO}
    newTag: "1.0.0"   # set by the pipeline
  - name: envoy
    newTag: v1.30
"""

DEPLOYMENT = f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: backend
spec:
  template:
    spec:
      containers:
        - name: app
          image: '{REPO}:1.0.0'
        - name: envoy
          image: envoyproxy/envoy:v1.30
"""


@pytest.fixture(autouse=True)
def _isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """git under test sees no global/system config and no GIT_* of the caller."""
    for name in list(leaked_git_vars(os.environ)):
        monkeypatch.delenv(name)
    for name, value in ISOLATION.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[Path]:
    """A bare repository with main: deploy/prod/{kustomization,deployment}.yaml."""
    bare = tmp_path / "remote.git"
    GitRepo(tmp_path).git("init", "-q", "--bare", "-b", "main", str(bare))
    seed = GitRepo.init(tmp_path / "seed")
    (seed.path / "deploy/prod").mkdir(parents=True)
    (seed.path / "deploy/prod/kustomization.yaml").write_text(KUSTOMIZATION)
    (seed.path / "deploy/prod/deployment.yaml").write_text(DEPLOYMENT)
    seed.git("add", ".")
    seed.git("commit", "-q", "-m", "initial")
    seed.git("push", "-q", str(bare), "main")
    yield bare


def clone(remote: Path, dest: Path) -> GitRepo:
    GitRepo(dest.parent).git("clone", "-q", f"file://{remote}", str(dest))
    return GitRepo(dest)


def log(remote: Path, rev: str = "main") -> list[str]:
    return GitRepo(remote).git("log", "--format=%s", rev).splitlines()


def show(remote: Path, path: str, rev: str = "main") -> str:
    return GitRepo(remote).git("show", f"{rev}:{path}") + "\n"
