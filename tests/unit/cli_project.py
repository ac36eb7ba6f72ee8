"""A project for command-line tests run in this process: a git repository with a Dockerfile.

The tests that drive `cli.main` against a real checkout (preflight refusals,
hostile input) share this layout and the way they check that nothing was
written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.gitrepo import GitRepo


def dockerfile_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, commits: int = 1
) -> Path:
    """`repo/` with a `Dockerfile` (FROM scratch) and `commits` commits, as the working directory.

    With `commits` > 1, HEAD~1 exists (for `--sha HEAD~1`).
    """
    repo = GitRepo.init(tmp_path / "repo")
    (repo.path / "Dockerfile").write_text("FROM scratch\n")
    for _ in range(commits - 1):
        repo.commit(file="Dockerfile.base")
    repo.commit()
    monkeypatch.chdir(repo.path)
    return repo.path


def files_under(root: Path) -> dict[Path, int]:
    """Every file under `root` and its size; git's own bookkeeping and symlinks aside."""
    out = {}
    for path in root.rglob("*"):
        if ".git" not in path.relative_to(root).parts and not path.is_symlink():
            out[path] = path.lstat().st_size
    return out
