"""GitOps repositories through gitpython: a private checkout to edit, commit and push.

A local repository is checked out into a temporary worktree (detached, at
the branch's tip: the remote's when pushing), so the caller's work tree and
index are never touched and an interrupted deploy leaves nothing behind but
a folder that is removed. A git URL is cloned shallowly into a temporary
folder with the credentials git already has (credential helpers, SSH agent,
`http.extraheader`). Credentials written into a URL (`https://user:token@...`)
are masked in every message, kept out of argv and out of the clone's config:
git receives them through `url.<with-credentials>.insteadOf` in the
environment of its own process only.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pipeline import log
from pipeline.deployment import DeployError
from pipeline.gitops.target import mask_url

LOG = logging.getLogger("pipeline")
_SCP = re.compile(r"^[\w.+-]+@[\w.-]+:(?!//)")
_REJECTED = re.compile(
    r"\[rejected\]|non-fast-forward|fetch first|stale info|cannot lock ref|failed to update ref"
)
#: Used only when git has no identity configured (a fresh CI runner).
IDENTITY = {"name": "pipeline", "email": "pipeline@users.noreply.localhost"}


def is_url(repo: str) -> bool:
    return "://" in repo or bool(_SCP.match(repo))


def credentials_env(url: str, env: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the variables that give it back to git only."""
    parts = urlsplit(url)
    if parts.password is None or not parts.hostname:
        return url, {}
    log.mask(parts.password)
    host = parts.netloc.rsplit("@", 1)[1]
    plain = urlunsplit(parts._replace(netloc=host))
    index = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
    return plain, {
        "GIT_CONFIG_COUNT": str(index + 1),
        f"GIT_CONFIG_KEY_{index}": f"url.{parts.scheme}://{parts.netloc}/.insteadOf",
        f"GIT_CONFIG_VALUE_{index}": f"{parts.scheme}://{host}/",
    }


class Git:
    """git in one folder, with extra environment; failures are DeployErrors, masked."""

    def __init__(self, cwd: Path, env: Mapping[str, str]) -> None:
        import git

        self.cwd = cwd
        self._git = git.Git(str(cwd))
        # never wait for a password prompt in CI
        self._env = {"GIT_TERMINAL_PROMPT": "0", **env}

    def run(self, *args: str, ok: tuple[int, ...] = (0,), doing: str = "") -> tuple[int, str, str]:
        status, out, err = self._git.execute(
            ["git", *args], with_extended_output=True, with_exceptions=False, env=self._env
        )
        if status not in ok:
            said = mask_url(str(err).strip() or str(out).strip())
            raise DeployError(f"{doing or 'git ' + args[0]}: {said}")
        return status, str(out), str(err)

    def out(self, *args: str, doing: str = "") -> str:
        return self.run(*args, doing=doing)[1].strip()

    def identity(self) -> dict[str, str]:
        """GIT_AUTHOR_*/GIT_COMMITTER_* for what git has no identity for."""
        extra: dict[str, str] = {}
        for part in ("name", "email"):
            configured = self.run("config", f"user.{part}", ok=(0, 1))[0] == 0
            for who in ("AUTHOR", "COMMITTER"):
                var = f"GIT_{who}_{part.upper()}"
                if not configured and var not in os.environ and var not in self._env:
                    extra[var] = IDENTITY[part]
        return extra

    def with_env(self, **extra: str) -> Git:
        return Git(self.cwd, {**self._env, **extra})


class Checkout:
    """The Workspace port over a temporary worktree or clone."""

    def __init__(
        self, git: Git, base: Path, branch: str, label: str, shallow: bool, owner: Git | None
    ) -> None:
        self.git = git
        self.top = git.cwd
        self.base = base
        self.branch = branch
        self.label = label
        self._shallow = shallow
        self._owner = owner  # the user's repository, for a worktree; None for a clone
        self._base_commit = git.out("rev-parse", "HEAD")

    def commit(self, paths: Sequence[Path], message: str) -> str:
        top = self.top.resolve()
        rel: list[str] = []
        for path in paths:
            try:
                rel.append(str(path.relative_to(top)))
            except ValueError:
                raise DeployError(
                    f"committing to {self.label}: {path} is outside the repository"
                ) from None
        self.git.run("add", "--", *rel)
        committer = self.git.with_env(**self.git.identity())
        committer.run(
            "commit", "-q", "-m", message, "--", *rel, doing=f"committing to {self.label}"
        )
        return self.git.out("rev-parse", "HEAD")

    def push(self) -> bool:
        status, out, err = self.git.run(
            "push", "--porcelain", "origin", f"HEAD:refs/heads/{self.branch}", ok=(0, 1)
        )
        if status == 0:
            return True
        if _REJECTED.search(out) or _REJECTED.search(err):
            return False
        raise DeployError(f"pushing to {self.label}: {mask_url(err.strip() or out.strip())}")

    def sync(self) -> None:
        self._fetch()
        self.git.run("reset", "-q", "--hard", "FETCH_HEAD")
        self._base_commit = self.git.out("rev-parse", "HEAD")

    def _fetch(self) -> None:
        depth = ("--depth", "1") if self._shallow else ()
        self.git.run(
            "fetch",
            "-q",
            "--no-tags",
            *depth,
            "origin",
            f"refs/heads/{self.branch}",
            doing=f"fetching {self.label}",
        )

    def publish_locally(self) -> None:
        if self._owner is None:
            raise DeployError(f"{self.label}: a clone's commit cannot stay local; push it")
        new = self.git.out("rev-parse", "HEAD")
        checked_out = _worktree_on(self._owner, self.branch)
        if checked_out is not None:
            # fast-forward the work tree that has the branch, as `git pull` would
            Git(checked_out, {}).run("merge", "-q", "--ff-only", new)
        else:
            ref = f"refs/heads/{self.branch}"
            self._owner.run("update-ref", "-m", "pipeline deploy", ref, new, self._base_commit)

    def close(self) -> None:
        if self._owner is not None:
            self._owner.run("worktree", "remove", "--force", str(self.top), ok=(0, 128))
            self._owner.run("worktree", "prune", ok=(0, 128))
        shutil.rmtree(self.top, ignore_errors=True)


def _worktree_on(owner: Git, branch: str) -> Path | None:
    listing = owner.out("worktree", "list", "--porcelain")
    path: Path | None = None
    for line in listing.splitlines():
        if line.startswith("worktree "):
            path = Path(line.removeprefix("worktree "))
        elif line == f"branch refs/heads/{branch}":
            return path
    return None


class GitRepositories:
    """The Repositories port: `repo:` is a path (relative to `base_dir`) or a git URL."""

    def __init__(self, base_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self._base_dir = base_dir
        self._env = dict(env or {})

    def open(self, repo: str, branch: str | None, push: bool) -> Checkout:
        if is_url(repo):
            return self._clone(repo, branch, push)
        return self._worktree(repo, branch, push)

    def _clone(self, url: str, branch: str | None, push: bool) -> Checkout:
        masked = mask_url(url)
        if not push:
            raise DeployError(
                f"{masked}: `push: false` would leave the commit in a temporary clone;"
                " push it, or name a local path"
            )
        plain, secret_env = credentials_env(url, {**os.environ, **self._env})
        folder = Path(tempfile.mkdtemp(prefix="pipeline-gitops-"))
        git = Git(folder, {**self._env, **secret_env})
        try:
            args = ["clone", "-q", "--depth", "1", "--no-tags", "--single-branch"]
            args += ["--branch", branch] if branch else []
            git.run(*args, "--", plain, str(folder), doing=f"cloning {masked}")
            branch = branch or git.out("symbolic-ref", "HEAD").removeprefix("refs/heads/")
            return Checkout(git, folder, branch, f"{masked}:{branch}", True, None)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def _worktree(self, repo: str, branch: str | None, push: bool) -> Checkout:
        path = (self._base_dir / repo).resolve()
        if not path.is_dir():
            raise DeployError(f"manifest repository {repo} is not a folder")
        owner_probe = Git(path, self._env)
        top = Path(
            owner_probe.out("rev-parse", "--show-toplevel", doing=f"manifest repository {repo}")
        ).resolve()
        owner = Git(top, self._env)
        if branch is None:
            # the full name, cut here: --short says heads/main when a tag is also named main
            status, out, _ = owner.run("symbolic-ref", "-q", "HEAD", ok=(0, 1))
            if status:
                raise DeployError(f"{repo} is on a detached HEAD: set `branch:` on the target")
            branch = out.strip().removeprefix("refs/heads/")
        label = f"{repo}:{branch}"
        doing = f"fetching {label}"
        shallow = owner.out("rev-parse", "--is-shallow-repository") == "true"
        if push:
            owner.run("remote", "get-url", "origin", doing=f"{label}: no remote to push to")
            depth = ("--depth", "1") if shallow else ()
            owner.run(
                "fetch", "-q", "--no-tags", *depth, "origin", f"refs/heads/{branch}", doing=doing
            )
            start = owner.out("rev-parse", "FETCH_HEAD")
        else:
            start = owner.out(
                "rev-parse",
                "--verify",
                "-q",
                f"refs/heads/{branch}^{{commit}}",
                doing=f"{label}: no such branch",
            )
        folder = Path(tempfile.mkdtemp(prefix="pipeline-gitops-"))
        try:
            owner.run(
                "worktree",
                "add",
                "-q",
                "--detach",
                str(folder),
                start,
                doing=f"checking out {label}",
            )
            sub = path.relative_to(top)
            return Checkout(Git(folder, self._env), folder / sub, branch, label, shallow, owner)
        except BaseException:
            owner.run("worktree", "prune", ok=(0, 128))
            shutil.rmtree(folder, ignore_errors=True)
            raise
