"""Git facts, read through gitpython but asked of git itself.

`for-each-ref`, `rev-parse` and `status --porcelain` answer in milliseconds
on repositories with tens of thousands of commits and tags; walking objects in
Python would not. One call per fact, no history walk.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ContextError

_SCP_URL = re.compile(r"^(?:[^@/]+@)?([^:/]+):(?!//)(.+)$")


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
    commit_time: dt.datetime | None  # of the commit asked for (HEAD by default)

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


def _repo(path: Path) -> Any:
    import git  # deferred: keeps `pipeline --help` fast

    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    except git.GitError as err:  # e.g. "dubious ownership"
        raise ContextError(f"git cannot read the repository at {path}: {err}") from None


def _run(repo: Any, *args: str, ok_codes: tuple[int, ...] = (0,)) -> str | None:
    import git

    try:
        out: str = repo.git.execute(
            ["git", *args], with_extended_output=False, strip_newline_in_stdout=True
        )
    except git.GitCommandError as err:
        if err.status in ok_codes:
            return None
        # gitpython wraps the text as "stderr: '...'"; the user needs git's own words
        said = str(err.stderr).strip().removeprefix("stderr:").strip().strip("'").strip()
        raise ContextError(f"`git {' '.join(args)}` failed: {said}") from None
    return out


def read(path: Path, sha: str | None = None) -> GitFacts | None:
    """Facts about the repository containing `path`; None when there is none."""
    repo = _repo(path)
    if repo is None:
        return None
    # Only exit 1 means "no commit yet"; 128 is a real failure (say "dubious ownership")
    # whose message must reach the user.
    head = _run(repo, "rev-parse", "--verify", "-q", "HEAD^{commit}", ok_codes=(1,))
    if not head:
        raise ContextError(f"the git repository at {repo.working_dir} has no commits yet")
    shallow = (_run(repo, "rev-parse", "--is-shallow-repository") or "") == "true"
    branch = _run(repo, "symbolic-ref", "-q", "--short", "HEAD", ok_codes=(1,))
    # show-ref -d peels a tag of a tag to its commit; for-each-ref's %(*objectname)
    # peels one level only. Exit 1: no tags at all.
    refs = _run(repo, "show-ref", "-d", "--tags", ok_codes=(1,)) or ""
    tags: dict[str, str] = {}
    for line in refs.splitlines():
        obj, _, ref = line.partition(" ")
        name = ref.removeprefix("refs/tags/")
        if name.endswith("^{}"):
            tags[name[:-3]] = obj  # an annotated tag's commit wins over the tag object
        else:
            tags.setdefault(name, obj)
    status = _run(repo, "status", "--porcelain", "--untracked-files=no") or ""
    origin_head = _run(
        repo, "symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD", ok_codes=(1, 128)
    )
    origin_url = _run(repo, "config", "--get", "remote.origin.url", ok_codes=(1,))
    target = sha or head
    when = _run(repo, "show", "-s", "--format=%ct", target, "--", ok_codes=(128,))
    return GitFacts(
        root=Path(repo.working_dir),
        head=head,
        branch=branch or None,
        tags=tags,
        dirty=bool(status.strip()),
        shallow=shallow,
        origin_head=origin_head.removeprefix("origin/") if origin_head else None,
        origin_url=public_url(origin_url),
        commit_time=dt.datetime.fromtimestamp(int(when), dt.timezone.utc) if when else None,
    )


def resolve_ref(path: Path, name: str) -> str | None:
    """`refs/tags/<name>` or `refs/heads/<name>` for a bare name, if git knows it."""
    repo = _repo(path)
    if repo is None:
        return None
    for full in (f"refs/tags/{name}", f"refs/heads/{name}", f"refs/remotes/origin/{name}"):
        if _run(repo, "rev-parse", "--verify", "-q", full, ok_codes=(1, 128)):
            return full.replace("refs/remotes/origin/", "refs/heads/")
    return None


def resolve_commit(path: Path, rev: str) -> str | None:
    repo = _repo(path)
    if repo is None:
        return None
    return _run(repo, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}", ok_codes=(1, 128))
