"""Release tags through gitpython: list the remote's tags, create, push, delete.

git uses the credentials it already has (credential helpers, SSH agent, the
header actions/checkout configures); nothing here reads or passes one. git
never prompts (a CI job would hang), and an error never shows a URL's
`user:token@` part.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipeline.errors import StageError, UsageError

_NO_PROMPT = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}
_NETWORK_TIMEOUT = 120.0
_URL_CREDENTIALS = re.compile(r"(\w+://)[^/@\s]+@")


class ReleaseError(StageError):
    """A git command of the release (tag, push) failed."""


def _said(err: Any) -> str:
    text = str(getattr(err, "stderr", "") or err).strip()
    text = text.removeprefix("stderr:").strip().strip("'").strip()
    return _URL_CREDENTIALS.sub(r"\1***@", text)


class ReleaseRepo:
    """The repository holding `path`."""

    def __init__(self, path: Path) -> None:
        import git  # deferred: keeps `pipeline --help` fast

        try:
            self._repo = git.Repo(path, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise UsageError(f"{path} is not in a git repository: nothing to release") from None

    def _git(self, *args: str, network: bool = False) -> str:
        import git

        try:
            out: str = self._repo.git.execute(
                ["git", *args],
                env=_NO_PROMPT,
                kill_after_timeout=_NETWORK_TIMEOUT if network else None,
                strip_newline_in_stdout=True,
            )
        except git.GitCommandError as err:
            raise ReleaseError(f"`git {args[0]}` failed: {_said(err)}") from None
        return out

    def check_tag_name(self, name: str) -> None:
        import git

        try:
            self._repo.git.execute(["git", "check-ref-format", f"refs/tags/{name}"])
            valid = not name.startswith("-")  # it would read as an option
        except git.GitCommandError:
            valid = False
        if not valid:
            raise UsageError(f"{name!r} is not a valid git tag name (check tag_prefix)")

    def has_remote(self, remote: str) -> bool:
        return any(r.name == remote for r in self._repo.remotes)

    def local_tags(self) -> list[str]:
        return [t.name for t in self._repo.tags]

    def remote_tags(self, remote: str) -> list[str]:
        """Every tag name the remote has (no objects fetched, no local ref changed)."""
        out = self._git("ls-remote", "--tags", "--refs", remote, network=True)
        return [
            line.split("\t", 1)[1].removeprefix("refs/tags/")
            for line in out.splitlines()
            if "\trefs/tags/" in line
        ]

    def create_tag(self, name: str, sha: str, message: str) -> None:
        self._git("tag", "--annotate", f"--message={message}", name, sha)

    def delete_tag(self, name: str) -> None:
        self._git("tag", "--delete", name)

    def push_tag(self, name: str, remote: str) -> None:
        # Only this tag: `--follow-tags` or `--tags` would publish whatever else lies around.
        ref = f"refs/tags/{name}"
        self._git("push", "--porcelain", remote, f"{ref}:{ref}", network=True)
