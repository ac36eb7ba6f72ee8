"""Git facts, read through gitpython but asked of git itself.

`for-each-ref`, `rev-parse` and `status --porcelain` answer in milliseconds
on repositories with tens of thousands of commits and tags; walking objects in
Python would not. One call per fact, no history walk.

Values that come from outside (flags, CI variables) are checked before they
reach git and are passed after `--end-of-options` (or, for `rev-parse`, after
`--verify`, the only form in which it honours that marker), so a value such as
`--output=FILE` can never be read as an option.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ContextError

_SCP_URL = re.compile(r"^(?:[^@/]+@)?([^:/]+):(?!//)(.+)$")
#: A full commit id: SHA-1, or SHA-256 in repositories that use it.
COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
#: Characters git never allows in a ref name (git check-ref-format), plus controls.
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
#: How long asking origin for its tag names may take.
REMOTE_TIMEOUT = 20.0
# Never wait at a password prompt: a CI job has no one to answer. A credential
# helper or askpass program the job set up still answers as usual.
_NO_PROMPTS = {"GIT_TERMINAL_PROMPT": "0"}


def is_commit_id(value: str) -> bool:
    return COMMIT_ID.fullmatch(value) is not None


def is_ref_name(name: str) -> bool:
    """Whether `name` (a full ref or a branch/tag name) is one git could hold.

    The rules of `git check-ref-format`, and no leading `-`, so that a name is
    never mistaken for an option.
    """
    if not name or len(name) > 1024 or name.startswith("-") or name == "@":
        return False
    if _REF_FORBIDDEN.search(name) or ".." in name or "@{" in name or "//" in name:
        return False
    if name.startswith("/") or name.endswith(("/", ".")):
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in name.split("/"))


def is_full_ref(ref: str) -> bool:
    return ref.startswith("refs/") and is_ref_name(ref)


def is_revision(value: str) -> bool:
    """A revision a user may name with --sha: an id, a tag or branch, `HEAD~2`..."""
    return (
        0 < len(value) <= 256
        and not value.startswith("-")
        and re.fullmatch(r"[\x21-\x7e]+", value) is not None
    )


@dataclass(frozen=True)
class GitFacts:
    root: Path
    head: str
    branch: str | None
    #: tag name -> the commit it points at (annotated tags peeled)
    tags: dict[str, str]
    dirty: bool
    shallow: bool
    origin_head: str | None
    origin_url: str | None
    commit_time: dt.datetime | None  # of HEAD
    has_origin: bool = False

    def tags_at(self, sha: str) -> list[str]:
        return sorted(name for name, target in self.tags.items() if target == sha)


def public_url(url: str | None) -> str | None:
    """A browsable URL without credentials: `https://host/owner/repo`."""
    if not url:
        return None
    url = url.strip()
    ssh = re.match(r"^(?:ssh|git)://(?:[^@/]+@)?([^/:]+)(?::\d+)?/(.+)$", url)
    scp = _SCP_URL.match(url)
    if ssh:
        url = f"https://{ssh.group(1)}/{ssh.group(2)}"
    elif scp and "://" not in url:
        url = f"https://{scp.group(1)}/{scp.group(2)}"
    if not re.match(r"^https?://", url):
        return None  # a local path is not a source anyone else can open
    url = re.sub(r"^(https?://)[^@/]+@", r"\1", url)  # drop user:token@
    return url.removesuffix("/").removesuffix(".git")


class Repo:
    """One repository, asked one question per method."""

    def __init__(self, repo: Any) -> None:
        self._repo = repo
        self.root = Path(repo.working_dir)

    def run(
        self,
        *args: str,
        ok_codes: tuple[int, ...] = (0,),
        timeout: float | None = None,
        env: dict[str, str] | None = None,
    ) -> str | None:
        import git

        try:
            out: str = self._repo.git.execute(
                ["git", *args],
                with_extended_output=False,
                strip_newline_in_stdout=True,
                kill_after_timeout=timeout,
                env=env,
            )
        except git.GitCommandError as err:
            if err.status in ok_codes:
                return None
            # gitpython wraps the text as "stderr: '...'"; the user needs git's own words
            said = str(err.stderr).strip().removeprefix("stderr:").strip().strip("'").strip()
            said = said or f"exit status {err.status}"
            raise ContextError(f"`git {' '.join(args)}` failed: {said}") from None
        return out

    def commit(self, rev: str) -> str | None:
        """The commit `rev` names, annotated tags peeled; None when git has no such commit."""
        if not is_revision(rev):
            return None
        peeled = f"{rev}^{{commit}}"
        return self.run(
            "rev-parse", "--verify", "-q", "--end-of-options", peeled, ok_codes=(1, 128)
        )

    def full_ref(self, name: str) -> str | None:
        """`refs/tags/<name>` or `refs/heads/<name>` for a bare name, if git knows it."""
        if not is_ref_name(name):
            return None
        for full in (f"refs/tags/{name}", f"refs/heads/{name}", f"refs/remotes/origin/{name}"):
            if self.run("rev-parse", "--verify", "-q", "--end-of-options", full, ok_codes=(1, 128)):
                return full.replace("refs/remotes/origin/", "refs/heads/")
        return None

    def tags_outside_head(self) -> list[str]:
        """Tags whose commit is not in HEAD's (local) history.

        In a shallow clone that is the sign of `git fetch --tags` or
        actions/checkout's `fetch-tags: true`: a plain shallow clone only has
        the tags that point into the history it fetched.
        """
        out = self.run("for-each-ref", "--no-merged=HEAD", "--format=%(refname)", "refs/tags")
        return [line.removeprefix("refs/tags/") for line in (out or "").splitlines()]

    def remote_tags(self, remote: str = "origin") -> list[str]:
        """Tag names `remote` has (one round trip, names only); ContextError if it cannot answer."""
        env = {**os.environ, **_NO_PROMPTS}
        if "GIT_SSH_COMMAND" not in env and "GIT_SSH" not in env:
            env["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes"
        args = ("ls-remote", "--tags", "--refs", "--end-of-options", remote)
        out = self.run(*args, timeout=REMOTE_TIMEOUT, env=env)
        names = []
        for line in (out or "").splitlines():
            _, _, ref = line.partition("\t")
            if ref.startswith("refs/tags/"):
                names.append(ref.removeprefix("refs/tags/"))
        return names


def open_repo(path: Path) -> Repo | None:
    """The repository containing `path`; None when there is none."""
    import git  # deferred: keeps `pipeline --help` fast

    try:
        return Repo(git.Repo(path, search_parent_directories=True))
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    except git.GitError as err:  # e.g. "dubious ownership"
        raise ContextError(f"git cannot read the repository at {path}: {err}") from None


def read(repo: Repo) -> GitFacts:
    """Facts about HEAD and the repository."""
    # Only exit 1 means "no commit yet"; 128 is a real failure (say "dubious ownership")
    # whose message must reach the user.
    head = repo.run("rev-parse", "--verify", "-q", "HEAD^{commit}", ok_codes=(1,))
    if not head:
        raise ContextError(f"the git repository at {repo.root} has no commits yet")
    shallow = (repo.run("rev-parse", "--is-shallow-repository") or "") == "true"
    # the full name, cut here: --short gives `heads/main` when a tag is also named main
    branch_ref = repo.run("symbolic-ref", "-q", "HEAD", ok_codes=(1,))
    branch = branch_ref.removeprefix("refs/heads/") if branch_ref else None
    # show-ref -d peels a tag of a tag to its commit; for-each-ref's %(*objectname)
    # peels one level only. Exit 1: no tags at all.
    refs = repo.run("show-ref", "-d", "--tags", ok_codes=(1,)) or ""
    tags: dict[str, str] = {}
    for line in refs.splitlines():
        obj, _, ref = line.partition(" ")
        name = ref.removeprefix("refs/tags/")
        if name.endswith("^{}"):
            tags[name[:-3]] = obj  # an annotated tag's commit wins over the tag object
        else:
            tags.setdefault(name, obj)
    status = repo.run("status", "--porcelain", "--untracked-files=no") or ""
    origin_head = repo.run("symbolic-ref", "-q", "refs/remotes/origin/HEAD", ok_codes=(1, 128))
    origin_url = repo.run("config", "--get", "remote.origin.url", ok_codes=(1,))
    when = repo.run("show", "-s", "--format=%ct", "--end-of-options", head, "--", ok_codes=(128,))
    return GitFacts(
        root=repo.root,
        head=head,
        branch=branch or None,
        tags=tags,
        dirty=bool(status.strip()),
        shallow=shallow,
        origin_head=origin_head.removeprefix("refs/remotes/origin/") if origin_head else None,
        origin_url=public_url(origin_url),
        commit_time=dt.datetime.fromtimestamp(int(when), dt.timezone.utc)
        if when and when.isdigit()
        else None,
        has_origin=origin_url is not None,
    )


def parent_of(root: Path, rev: str = "HEAD") -> str | None:
    """The first parent of a commit, from its object (`git cat-file -p`).

    A depth-1 clone lacks the parent commit but its HEAD object still names
    it, which is all the layer cache needs (the parent's `sha-` image).
    """
    import subprocess

    try:
        out = subprocess.run(
            ["git", "cat-file", "-p", rev],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return parse_parent(out.stdout)


def parse_parent(commit_object: str) -> str | None:
    """The first `parent <sha>` line of a commit object's header, if any."""
    for line in commit_object.splitlines():
        if not line:
            break  # the header ends at the first blank line
        key, _, value = line.partition(" ")
        if key == "parent" and is_commit_id(value.strip()):
            return value.strip()
    return None
