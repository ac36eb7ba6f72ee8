"""Fill a `Context` from, in order: flags, the CI environment (`pipeline.ci`), then git.

Anything but GitHub Actions and CodeBuild is a local run. The commit that tags
and labels name is always the checked-out HEAD: a flag, CI variable or PR
payload that names another is an error with the fix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from pipeline import semver
from pipeline.adapters import git as gitfacts
from pipeline.ci.env import PR_REF, CiFacts, codebuild, github, is_pr_event
from pipeline.context import Context
from pipeline.errors import ContextError

NO_GIT_HELP = (
    "no git metadata at {path}: tags are computed from git, and this source has no .git"
    " (CodePipeline's default source artifact is a zip without it). Fix: enable"
    " 'Full clone' on the CodePipeline source action (CODEBUILD_CLONE_REF), build from a"
    " git checkout, or pass both --sha and --ref"
)


def _apply_ref(ref: str, facts: CiFacts) -> tuple[str | None, str | None]:
    """(branch, tag) named by a full ref; records a PR ref on `facts`."""
    if ref.startswith("refs/heads/"):
        return ref[len("refs/heads/") :], None
    if ref.startswith("refs/tags/"):
        return None, ref[len("refs/tags/") :]
    pr = PR_REF.fullmatch(ref)
    if pr:
        facts.pr = int(pr.group(1))
        if not is_pr_event(facts.event):
            facts.event = "pull_request"
        return None, None
    raise ContextError(
        f"cannot use ref {ref!r}: expected refs/heads/<branch>, refs/tags/<tag>"
        " or refs/pull/<N>/head"
    )


def resolve(
    env: Mapping[str, str],
    cwd: Path,
    *,
    ref: str | None = None,
    sha: str | None = None,
    default_branch: str | None = None,
    now: dt.datetime | None = None,
    release_tags: bool = True,
) -> Context:
    """The run's context. `release_tags`: whether every release tag's name is wanted
    (`latest: auto`); a shallow clone may then ask origin for them."""
    facts = github(env) or codebuild(env) or CiFacts("local")
    repo = gitfacts.open_repo(cwd)
    _apply_flags(facts, repo, ref, sha)
    now = now or dt.datetime.now(dt.timezone.utc)
    if repo is None:
        return _without_git(facts, cwd, default_branch, now)
    git = gitfacts.read(repo)
    _check_commit(facts, repo, git)
    target = git.head
    head_tags = set(git.tags_at(target))
    if facts.ref is None and facts.pr is None:
        _ref_from_git(facts, repo, git, head_tags)
    branch, ref_tag = _apply_ref(facts.ref, facts) if facts.ref else (None, None)
    if facts.pr is not None:
        branch = None
    if ref_tag:
        _check_tag(ref_tag, git, target, facts.origins.get("ref", "the ref"))
        head_tags.add(ref_tag)
    best = semver.highest(sorted(head_tags))
    # a tag event's ref is the version; otherwise the highest tag on the commit
    tag = ref_tag or (best[1] if best else (sorted(head_tags)[0] if head_tags else None))
    repo_tags, note = _release_tags(repo, git, head_tags, wanted=release_tags)
    return Context(
        provider=facts.provider,
        event=facts.event,
        sha=target,
        ref=facts.ref,
        branch=branch,
        tag=tag,
        tag_event=bool(ref_tag) and facts.origins.get("ref") != "git",
        pr=facts.pr,
        base_ref=facts.base_ref,
        head_ref=facts.head_ref,
        default_branch=default_branch or facts.default_branch or git.origin_head,
        dirty=git.dirty,
        shallow=git.shallow,
        head_tags=tuple(sorted(head_tags)),
        repo_tags=repo_tags,
        repo_tags_note=note,
        commit_time=git.commit_time,
        now=now,
        source_url=facts.source_url or git.origin_url,
        description=facts.description,
        licenses=facts.licenses,
        origins=tuple(sorted(facts.origins.items())),
    )


NO_REPOSITORY_NOTE = (
    "there is no git repository here, only the commit and ref that were given;"
    " `latest: never`, `always` and `default_branch` work without git, or build from a"
    " git checkout that has its tags"
)


def _without_git(
    facts: CiFacts, cwd: Path, default_branch: str | None, now: dt.datetime
) -> Context:
    """A run from stated facts (a CodePipeline zip): the commit and ref, taken as given."""
    if not (facts.sha and facts.ref):
        raise ContextError(NO_GIT_HELP.format(path=cwd))
    if not gitfacts.is_commit_id(facts.sha):
        raise ContextError(
            f"{facts.origins.get('sha', '--sha')} {facts.sha!r}: without a git repository"
            f" at {cwd} the commit must be given as its full id (40 hex digits)"
        )
    branch, ref_tag = _apply_ref(facts.ref, facts)
    return Context(
        provider=facts.provider,
        event=facts.event,
        sha=facts.sha,
        ref=facts.ref,
        branch=None if facts.pr is not None else branch,
        tag=ref_tag,
        tag_event=bool(ref_tag),
        pr=facts.pr,
        base_ref=facts.base_ref,
        head_ref=facts.head_ref,
        default_branch=default_branch or facts.default_branch,
        head_tags=(ref_tag,) if ref_tag else (),
        repo_tags=None,
        repo_tags_note=NO_REPOSITORY_NOTE,
        now=now,
        source_url=facts.source_url,
        description=facts.description,
        licenses=facts.licenses,
        origins=tuple(sorted(facts.origins.items())),
    )


def _apply_flags(
    facts: CiFacts, repo: gitfacts.Repo | None, ref: str | None, sha: str | None
) -> None:
    if sha:
        if not gitfacts.is_revision(sha):
            raise ContextError(f"--sha {sha!r}: not a commit id or a name git could look up")
        facts.sha, facts.origins["sha"] = sha, "--sha"
    if ref:
        if not ref.startswith("refs/"):
            full = repo.full_ref(ref) if repo is not None else None
            if full is None:
                where = "" if repo is not None else " (there is no git repository to look it up)"
                raise ContextError(
                    f"--ref {ref!r}: no such tag or branch{where}; give a full ref such as"
                    " refs/tags/v1.2.3 or refs/heads/main"
                )
            ref = full
        if not gitfacts.is_full_ref(ref):
            raise ContextError(f"--ref {ref!r} is not a git ref")
        facts.ref, facts.origins["ref"] = ref, "--ref"
        if not PR_REF.fullmatch(ref) and facts.pr is not None:
            # --ref turns a PR run into a run for that branch or tag
            facts.event, facts.pr, facts.base_ref, facts.head_ref = "push", None, None, None


def _check_commit(facts: CiFacts, repo: gitfacts.Repo, git: gitfacts.GitFacts) -> None:
    """The commit a flag, CI or a PR payload names must be the checked-out HEAD.

    Tags and labels name a commit; the build reads the work tree. When the two
    differ, a tag would promise files that were never built (a PR's head
    while GitHub's merge commit is checked out, `--sha` of an older release).
    """
    named = facts.sha
    if named is None:
        return
    commit = repo.commit(named)
    if commit == git.head:
        facts.sha = commit
        return
    origin = facts.origins.get("sha", "the CI")
    head = git.head[:12]
    what = f"commit {commit[:12]}" if commit else "a commit that is not in this clone"
    why = "tags and labels must name the files being built"
    if origin == "--sha":
        raise ContextError(
            f"--sha {named} names {what}, but the checked-out HEAD is {head}; {why}:"
            f" check out that commit (`git checkout {named}`) or drop --sha"
        )
    if facts.pr is not None and origin.startswith("event payload"):
        raise ContextError(
            f"this {facts.event} run is for PR #{facts.pr}, whose head is {named[:12]}, but the"
            f" checked-out HEAD is {head} (GitHub's merge commit, unless the checkout said"
            f" otherwise); {why}: check out the PR head, with"
            " `ref: ${{ github.event.pull_request.head.sha }}` in actions/checkout"
        )
    raise ContextError(
        f"{origin} is {named[:12]}, but the checked-out HEAD is {head}; {why}: check out the"
        f" commit {origin} names, or pass --sha and --ref for what is checked out"
    )


def _ref_from_git(
    facts: CiFacts, repo: gitfacts.Repo, git: gitfacts.GitFacts, head_tags: set[str]
) -> None:
    if facts.source_name:
        facts.ref = repo.full_ref(facts.source_name)
        if facts.ref:
            facts.origins["ref"] = "CODEBUILD_SOURCE_VERSION"
            return
    if git.branch:
        facts.ref = f"refs/heads/{git.branch}"
    elif head_tags:
        best = semver.highest(sorted(head_tags))
        facts.ref = f"refs/tags/{best[1] if best else sorted(head_tags)[0]}"
    else:
        return
    facts.origins["ref"] = "git"


def _check_tag(tag: str, git: gitfacts.GitFacts, target: str, origin: str) -> None:
    points_at = git.tags.get(tag)
    if points_at and points_at != target:
        raise ContextError(
            f"{origin} names tag {tag}, but git has {tag} on {points_at[:12]}, not on the"
            f" commit being built ({target[:12]}); fetch the tags again"
            " (`git fetch --tags --force`) or pass --sha and --ref that agree"
        )


FETCH_TAGS = (
    "fetch the tags (`git fetch --tags`; actions/checkout: `fetch-tags: true` or"
    " `fetch-depth: 0`; CodeBuild: git clone depth Full), or set `latest:` to always,"
    " never or default_branch"
)


def _release_tags(
    repo: gitfacts.Repo, git: gitfacts.GitFacts, head_tags: set[str], *, wanted: bool
) -> tuple[tuple[str, ...] | None, str | None]:
    """Every tag name of the repository, for `latest: auto`; else None and why not.

    A shallow clone lacks the history, but the rule needs only the names of
    the release tags. They are evidently there when one points outside the
    fetched history (what `git fetch --tags` leaves); otherwise origin is asked
    for its tag names, once, and only when HEAD carries a release at all.
    """
    every = tuple(sorted(git.tags))
    if not git.shallow:
        return every, None
    if any(semver.looks_like_release(t) for t in repo.tags_outside_head()):
        return every, None
    if not wanted or not any(semver.looks_like_release(t) for t in head_tags):
        return None, f"this clone is shallow and may lack release tags; {FETCH_TAGS}"
    if not git.has_origin:
        return None, f"this clone is shallow and has no origin to ask for its tags; {FETCH_TAGS}"
    try:
        remote = repo.remote_tags()
    except ContextError as err:
        return None, (
            f"this clone is shallow, and origin could not be asked for its tags ({err});"
            f" {FETCH_TAGS}"
        )
    missing = sorted(t for t in remote if t not in git.tags and semver.looks_like_release(t))
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        return (
            None,
            f"this clone is shallow and lacks release tags that origin has ({shown}); {FETCH_TAGS}",
        )
    return every, None
