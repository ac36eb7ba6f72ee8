"""Fill a `Context` from, in order: flags, the CI environment, then git.

GitHub Actions: GITHUB_* and the event payload. CodeBuild: CODEBUILD_*.
Anything else is a local run. PR builds use the PR head commit, never
GitHub's synthetic merge commit nor (pull_request_target) the base tip.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import events, semver
from pipeline.adapters import git as gitfacts
from pipeline.context import Context
from pipeline.errors import ContextError

_PR_REF = re.compile(r"refs/pull/([1-9][0-9]{0,8})/(?:merge|head)")


def _is_pr_event(event: str) -> bool:
    # pull_request, pull_request_target and the review events all carry the PR in the
    # payload, and all have a GITHUB_SHA that is not the PR head.
    return event.startswith("pull_request")


NO_GIT_HELP = (
    "no git metadata at {path}: tags are computed from git, and this source has no .git"
    " (CodePipeline's default source artifact is a zip without it). Fix: enable"
    " 'Full clone' on the CodePipeline source action (CODEBUILD_CLONE_REF), build from a"
    " git checkout, or pass both --sha and --ref"
)


@dataclass
class CiFacts:
    provider: str
    event: str = "push"
    ref: str | None = None
    sha: str | None = None
    pr: int | None = None
    base_ref: str | None = None
    head_ref: str | None = None
    #: CodeBuild's bare branch or tag name (`start-build --source-version main`)
    source_name: str | None = None
    default_branch: str | None = None
    source_url: str | None = None
    description: str | None = None
    licenses: str | None = None
    origins: dict[str, str] = field(default_factory=dict)


def _github_env(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """GITHUB_SHA and GITHUB_REF, checked: they reach git and the tags."""
    sha = env.get("GITHUB_SHA") or None
    if sha is not None and not gitfacts.is_commit_id(sha):
        raise ContextError(f"GITHUB_SHA={sha!r} is not a commit id (40 hex digits)")
    ref = env.get("GITHUB_REF") or None
    if ref is not None and not gitfacts.is_full_ref(ref):
        raise ContextError(
            f"GITHUB_REF={ref!r} is not a git ref (refs/heads/<branch>, refs/tags/<tag>,"
            " refs/pull/<N>/merge)"
        )
    return sha, ref


def github(env: Mapping[str, str]) -> CiFacts | None:
    if env.get("GITHUB_ACTIONS") != "true":
        return None
    sha, ref = _github_env(env)
    path = env.get("GITHUB_EVENT_PATH")
    payload = events.read(path) if path else events.GithubEvent()
    event = env.get("GITHUB_EVENT_NAME") or "push"
    if not re.fullmatch(r"[a-z_]{1,64}", event):
        raise ContextError(f"GITHUB_EVENT_NAME={event!r} is not an event name")
    facts = CiFacts("github", event=event, ref=ref, sha=sha)
    facts.origins.update(ref="GITHUB_REF", sha="GITHUB_SHA")
    facts.default_branch = payload.default_branch
    if env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL") or "https://github.com"
        facts.source_url = f"{server}/{env['GITHUB_REPOSITORY']}"
    else:
        facts.source_url = payload.html_url
    facts.description = payload.description
    facts.licenses = payload.license
    if _is_pr_event(event):
        number = payload.pr
        ref_match = _PR_REF.fullmatch(ref or "")
        if number is None and ref_match:
            number = int(ref_match.group(1))
        if number is None or not payload.head_sha:
            raise ContextError(
                f"a {event} run needs the event payload (GITHUB_EVENT_PATH) to find the PR"
                " number and head commit; GITHUB_SHA is a merge or base commit, not the PR."
                " Pass --sha and --ref refs/pull/N/head to override"
            )
        facts.pr = number
        facts.sha = payload.head_sha
        facts.ref = f"refs/pull/{facts.pr}/head"
        facts.base_ref = env.get("GITHUB_BASE_REF") or payload.base_ref
        facts.head_ref = env.get("GITHUB_HEAD_REF") or payload.head_ref
        facts.origins.update(sha="event payload pull_request.head.sha", ref="event payload")
    return facts


def _codebuild_ref(name: str, variable: str, value: str) -> str:
    if not gitfacts.is_full_ref(name):
        raise ContextError(f"{variable}={value!r} does not name a git ref")
    return name


def codebuild(env: Mapping[str, str]) -> CiFacts | None:
    if not (env.get("CODEBUILD_BUILD_ID") or env.get("CODEBUILD_BUILD_ARN")):
        return None
    facts = CiFacts(
        "codebuild", source_url=gitfacts.public_url(env.get("CODEBUILD_SOURCE_REPO_URL"))
    )
    # "may not always be available" (CodePipeline): anything but a commit id is ignored
    resolved = env.get("CODEBUILD_RESOLVED_SOURCE_VERSION", "")
    if gitfacts.is_commit_id(resolved):
        facts.sha = resolved
        facts.origins["sha"] = "CODEBUILD_RESOLVED_SOURCE_VERSION"
    trigger = env.get("CODEBUILD_WEBHOOK_TRIGGER", "")
    source_version = env.get("CODEBUILD_SOURCE_VERSION", "")
    head_ref = env.get("CODEBUILD_WEBHOOK_HEAD_REF", "")
    kind, _, name = trigger.partition("/")
    if trigger and kind in ("branch", "tag", "pr") and name:
        facts.origins["ref"] = "CODEBUILD_WEBHOOK_TRIGGER"
        if kind == "pr":
            _codebuild_pr(facts, name, env)
        else:
            full = f"refs/{'heads' if kind == 'branch' else 'tags'}/{name}"
            facts.ref = _codebuild_ref(full, "CODEBUILD_WEBHOOK_TRIGGER", trigger)
    elif source_version.startswith("pr/"):
        facts.origins["ref"] = "CODEBUILD_SOURCE_VERSION"
        _codebuild_pr(facts, source_version[3:], env)
    elif source_version.startswith("refs/"):
        facts.ref = _codebuild_ref(source_version, "CODEBUILD_SOURCE_VERSION", source_version)
        facts.origins["ref"] = "CODEBUILD_SOURCE_VERSION"
    elif head_ref.startswith("refs/"):
        facts.ref = _codebuild_ref(head_ref, "CODEBUILD_WEBHOOK_HEAD_REF", head_ref)
        facts.origins["ref"] = "CODEBUILD_WEBHOOK_HEAD_REF"
    if gitfacts.is_commit_id(source_version):
        facts.sha = facts.sha or source_version
        facts.origins.setdefault("sha", "CODEBUILD_SOURCE_VERSION")
    elif facts.ref is None and source_version and not source_version.startswith("arn:"):
        # a branch or tag name (`start-build --source-version main`): only git can tell which
        if not gitfacts.is_ref_name(source_version):
            raise ContextError(
                f"CODEBUILD_SOURCE_VERSION={source_version!r} is neither a commit id nor a"
                " branch or tag name"
            )
        facts.source_name = source_version
    return facts


def _codebuild_pr(facts: CiFacts, number: str, env: Mapping[str, str]) -> None:
    if not number.isdigit() or len(number) > 9:
        raise ContextError(f"cannot read a PR number from CodeBuild's {number!r}")
    facts.event = "pull_request"
    facts.pr = int(number)
    facts.ref = f"refs/pull/{facts.pr}/head"
    base = env.get("CODEBUILD_WEBHOOK_BASE_REF", "")
    facts.base_ref = base.removeprefix("refs/heads/") or None
    head = env.get("CODEBUILD_WEBHOOK_HEAD_REF", "")
    facts.head_ref = head.removeprefix("refs/heads/") or None


def _apply_ref(ref: str, facts: CiFacts) -> tuple[str | None, str | None]:
    """(branch, tag) named by a full ref; records a PR ref on `facts`."""
    if ref.startswith("refs/heads/"):
        return ref[len("refs/heads/") :], None
    if ref.startswith("refs/tags/"):
        return None, ref[len("refs/tags/") :]
    pr = _PR_REF.fullmatch(ref)
    if pr:
        facts.pr = int(pr.group(1))
        if not _is_pr_event(facts.event):
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
        if not _PR_REF.fullmatch(ref) and facts.pr is not None:
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
