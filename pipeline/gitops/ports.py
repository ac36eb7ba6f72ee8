"""What the GitOps write-back needs from git, as small Protocols (gitpython behind them)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol


class Workspace(Protocol):
    """A private checkout of the manifest repository's branch: edited, committed, pushed.

    It is never the caller's own work tree, so a failed or interrupted deploy
    leaves the caller's files and index as they were.
    """

    #: where `files:` are relative to (the repo path given, or the clone's root)
    base: Path
    #: the repository's top folder; no file may resolve outside it
    top: Path
    #: "repo:branch" with any credentials masked
    label: str

    def commit(self, paths: Sequence[Path], message: str) -> str:
        """Stage and commit these files; returns the new commit's id."""
        ...

    def push(self) -> bool:
        """Push the branch; False when the remote moved on (non-fast-forward)."""
        ...

    def sync(self) -> None:
        """Start again from the remote branch's current tip (our commit dropped)."""
        ...

    def publish_locally(self) -> None:
        """`push: false`: advance the branch in the repository itself."""
        ...

    def close(self) -> None: ...


class Repositories(Protocol):
    def open(self, repo: str, branch: str | None, push: bool) -> Workspace: ...
