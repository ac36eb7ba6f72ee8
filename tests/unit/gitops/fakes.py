"""Fakes of the GitOps ports: a branch held in memory, and checkouts of it in a folder.

A `FakeBranch` is what the remote (or, for `push: false`, the local repository)
holds: the files at its tip and the messages of its commits. A `FakeWorkspace`
is a private checkout of one: real files in a folder of its own, commits kept
in memory until `push` lands them, refused when the branch moved on in the
meantime (non-fast-forward), as git refuses. `refusals` lets a unit test have
someone else push just before each of the next N pushes of ours.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline.deployment import DeployError
from pipeline.gitops.target import mask_url

_IDS = itertools.count(1)


def _new_id() -> str:
    return f"{next(_IDS):040x}"  # the shape of a commit id, 40 hex digits


class FakeBranch:
    """A branch: its files at the tip, its commits' messages (newest first), its tip."""

    def __init__(
        self,
        files: Mapping[str, str],
        name: str = "main",
        local: bool = False,
        origin: FakeBranch | None = None,
    ) -> None:
        self.name = name
        self.local = local  # a repository on this machine (`push: false` works), not a URL
        self.origin = origin  # a local repository's remote: what `push: true` checks out
        self.files = dict(files)
        self.log = ["initial"]
        self.tip = _new_id()

    def move(self, files: Mapping[str, str], message: str) -> None:
        """Someone else pushes a commit on top."""
        self.files.update(files)
        self.log.insert(0, message)
        self.tip = _new_id()


class FakeWorkspace:
    """The Workspace port over a folder holding a checkout of `branch`."""

    def __init__(self, root: Path, branch: FakeBranch, label: str, refusals: int = 0) -> None:
        self.base = self.top = root
        self.branch = branch
        self.label = label
        self.refusals = refusals
        #: what someone else's refused-for pushes write (unit tests: the branch moved on)
        self.racer_files: dict[str, str] = {}
        self.commits: list[tuple[list[str], str]] = []
        self.pushes = 0
        self.syncs = 0
        self.published = False
        self.closed = False
        self._checkout()

    def _checkout(self) -> None:
        """The branch's files, as they are now, and nothing of ours on top."""
        self.top.mkdir(parents=True, exist_ok=True)
        for name, text in self.branch.files.items():
            path = self.top / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))  # byte for byte, as git: CRLF stays
        self._base = self.branch.tip
        self._head_files = dict(self.branch.files)
        self._pending: list[str] = []  # our commits' messages, oldest first
        self._head = self._base

    def commit(self, paths: Sequence[Path], message: str) -> str:
        top = self.top.resolve()
        staged: dict[str, str] = {}
        for path in paths:
            try:
                rel = path.relative_to(top).as_posix()
            except ValueError:
                raise DeployError(
                    f"committing to {self.label}: {path} is outside the repository"
                ) from None
            if not path.is_file():
                raise DeployError(
                    f"git add: fatal: pathspec '{rel}' did not match any files ({self.label})"
                )
            staged[rel] = path.read_bytes().decode("utf-8")  # no newline translation
        if all(self._head_files.get(rel) == text for rel, text in staged.items()):
            raise DeployError(f"committing to {self.label}: nothing to commit, no changes")
        self._head_files.update(staged)
        self._pending.append(message)
        self._head = _new_id()
        self.commits.append(([p.name for p in paths], message))
        return self._head

    def push(self) -> bool:
        self.pushes += 1
        if self.refusals:
            self.refusals -= 1
            self.branch.move(self.racer_files, "someone else's commit")
        return self._land()

    def _land(self) -> bool:
        if self.branch.tip != self._base:
            return False  # non-fast-forward: the branch has a commit we lack
        self.branch.files = dict(self._head_files)
        self.branch.log[:0] = list(reversed(self._pending))
        self.branch.tip = self._base = self._head
        self._pending = []
        return True

    def sync(self) -> None:
        self.syncs += 1
        self._checkout()

    def publish_locally(self) -> None:
        if not self.branch.local:
            raise DeployError(f"{self.label}: a clone's commit cannot stay local; push it")
        self.published = True
        if not self._land():
            raise DeployError(f"{self.label}: the branch moved on; not a fast-forward")

    def close(self) -> None:
        self.closed = True
        shutil.rmtree(self.top, ignore_errors=True)


class FakeRepos:
    """The Repositories port: hands out `workspace` (unit tests), or else checks out
    the named `branches` into folders under `scratch` (as the git adapter does)."""

    def __init__(
        self,
        workspace: FakeWorkspace | None = None,
        error: Exception | None = None,
        branches: Mapping[str, FakeBranch] | None = None,
        scratch: Path | None = None,
    ) -> None:
        self.workspace = workspace
        self.error = error
        self.branches = dict(branches or {})
        self.scratch = scratch
        self.opened: list[tuple[str, str | None, bool]] = []

    def open(self, repo: str, branch: str | None, push: bool) -> FakeWorkspace:
        self.opened.append((repo, branch, push))
        if self.error:
            raise self.error
        if self.workspace is not None:
            return self.workspace
        assert self.scratch is not None
        masked = mask_url(repo)
        held = self.branches.get(repo)
        if held is None:
            if "://" in repo:
                raise DeployError(f"cloning {masked}: fatal: unable to access '{masked}'")
            raise DeployError(f"manifest repository {repo} is not a folder")
        if not held.local and not push:
            raise DeployError(
                f"{masked}: `push: false` would leave the commit in a temporary clone;"
                " push it, or name a local path"
            )
        if held.local and push:
            if held.origin is None:
                raise DeployError(f"{repo}:{branch or held.name}: no remote to push to")
            held = held.origin  # the remote's branch, as fetched: pushed back there
        name = branch or held.name
        if name != held.name:
            doing = "cloning" if not held.local else "fetching"
            raise DeployError(f"{doing} {masked}: fatal: Remote branch {name} not found")
        folder = self.scratch / f"checkout-{len(self.opened)}"
        return FakeWorkspace(folder, held, f"{masked}:{name}")
