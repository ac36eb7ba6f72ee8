"""Real git repositories in a temporary directory, built with the git CLI.

Every commit has a fixed author, committer and date, so two runs build the
same shas. Git runs with no global or system config and none of the caller's
GIT_* variables (a pre-commit hook exports GIT_DIR and GIT_INDEX_FILE), so
the developer's machine cannot change what a test sees.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from collections.abc import Iterator, MutableMapping
from pathlib import Path

BASE_DATE = 1_704_110_400  # 2024-01-01T12:00:00Z

#: Variables that make git ignore the machine it runs on.
ISOLATION = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}


def leaked_git_vars(env: MutableMapping[str, str]) -> Iterator[str]:
    """GIT_* variables from the caller that would redirect or reconfigure git."""
    return (k for k in list(env) if k.startswith("GIT_") and k not in ISOLATION)


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(ISOLATION)
    return env


class GitRepo:
    """A work tree under `path`; each method is one or two git commands."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._commits = 0

    @classmethod
    def init(cls, path: Path, branch: str = "main") -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        repo = cls(path)
        repo.git("init", "-q", "-b", branch)
        return repo

    def git(self, *args: str, date: int | None = None) -> str:
        env = clean_env()
        if date is not None:
            stamp = f"@{date} +0000"
            env.update(GIT_AUTHOR_DATE=stamp, GIT_COMMITTER_DATE=stamp)
        done = subprocess.run(
            ["git", *args], cwd=self.path, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    # ------------------------------------------------------------------ history

    def commit(self, message: str | None = None, *, file: str = "app.txt") -> str:
        """A new commit changing `file`; returns its sha. Dates advance one day each."""
        self._commits += 1
        target = self.path / file
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as out:
            out.write(f"change {self._commits}\n")
        self.git("add", file)
        self.git("commit", "-q", "-m", message or f"commit {self._commits}", date=self._date())
        return self.head()

    def merge(self, rev: str) -> str:
        """A merge commit of `rev` into HEAD (what GitHub builds for a pull_request)."""
        self._commits += 1
        self.git("merge", "-q", "--no-ff", "-m", f"Merge {rev}", rev, date=self._date())
        return self.head()

    def _date(self) -> int:
        return BASE_DATE + 86_400 * (self._commits - 1)

    def time_of(self, rev: str) -> dt.datetime:
        """The committer date of `rev`, as the code under test reads it."""
        seconds = int(self.git("show", "-s", "--format=%ct", rev))
        return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def tag(self, name: str, rev: str = "HEAD", *, annotated: bool = False) -> None:
        if annotated:
            self.git("tag", "-a", "-m", f"release {name}", name, rev, date=BASE_DATE)
        else:
            self.git("tag", name, rev)

    # ------------------------------------------------------------------ work tree state

    def branch(self, name: str, *, checkout: bool = True) -> None:
        self.git("branch", name)
        if checkout:
            self.checkout(name)

    def checkout(self, rev: str) -> None:
        self.git("checkout", "-q", rev)

    def detach(self, rev: str = "HEAD") -> None:
        self.git("checkout", "-q", "--detach", rev)

    def make_dirty(self, file: str = "app.txt") -> None:
        """Change a tracked file without committing it."""
        with (self.path / file).open("a", encoding="utf-8") as out:
            out.write("uncommitted\n")

    def add_untracked(self, name: str = "notes.txt") -> None:
        (self.path / name).write_text("scratch\n", encoding="utf-8")

    # ------------------------------------------------------------------ remotes

    def clone(self, dest: Path, *, depth: int | None = None, branch: str | None = None) -> GitRepo:
        """`git clone` of this repository (file:// so that --depth is honoured)."""
        args = ["clone", "-q"]
        if depth is not None:
            args += ["--depth", str(depth)]
        if branch is not None:
            args += ["--branch", branch]
        GitRepo(dest.parent).git(*args, f"file://{self.path}", str(dest))
        clone = GitRepo(dest)
        clone._commits = self._commits
        return clone

    def set_origin(self, url: str) -> None:
        self.git("remote", "add", "origin", url)

    def set_origin_head(self, branch: str) -> None:
        """refs/remotes/origin/HEAD -> origin/<branch>, as `git clone` leaves it."""
        self.git("update-ref", f"refs/remotes/origin/{branch}", "HEAD")
        self.git("remote", "set-head", "origin", branch)
