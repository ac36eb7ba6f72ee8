"""Fill a `Context` from, in order: flags, the CI environment, then git.

GitHub Actions: GITHUB_* and the event payload. CodeBuild: CODEBUILD_*.
Anything else is a local run. PR builds use the PR head commit, never
GitHub's synthetic merge commit nor (pull_request_target) the base tip.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline import semver
from pipeline.adapters import git as gitfacts
from pipeline.context import Context
from pipeline.errors import ContextError

_SHA = re.compile(r"^[0-9a-f]{40}$")
_PR_REF = re.compile(r"^refs/pull/(\d+)/(?:merge|head)$")


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


def _payload(env: Mapping[str, str]) -> dict[str, Any]:
    path = env.get("GITHUB_EVENT_PATH")
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ContextError(f"cannot read the GitHub event payload {path}: {err}") from None
    return data if isinstance(data, dict) else {}


def github(env: Mapping[str, str]) -> CiFacts | None:
    if env.get("GITHUB_ACTIONS") != "true":
        return None
    payload = _payload(env)
    repo = payload.get("repository") or {}
    event = env.get("GITHUB_EVENT_NAME") or "push"
    facts = CiFacts(
        "github", event=event, ref=env.get("GITHUB_REF") or None, sha=env.get("GITHUB_SHA") or None
    )
    facts.origins.update(ref="GITHUB_REF", sha="GITHUB_SHA")
    facts.default_branch = repo.get("default_branch")
    if env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL") or "https://github.com"
        facts.source_url = f"{server}/{env['GITHUB_REPOSITORY']}"
    else:
        facts.source_url = repo.get("html_url")
    facts.description = repo.get("description") or None
    license_id = (repo.get("license") or {}).get("spdx_id")
    facts.licenses = license_id if license_id and license_id != "NOASSERTION" else None
    if _is_pr_event(event):
        pull = payload.get("pull_request") or {}
        number = pull.get("number") or payload.get("number")
        ref_match = _PR_REF.match(env.get("GITHUB_REF", ""))
        if number is None and ref_match:
            number = int(ref_match.group(1))
        head_sha = (pull.get("head") or {}).get("sha")
        if number is None or not head_sha:
            raise ContextError(
                f"a {event} run needs the event payload (GITHUB_EVENT_PATH) to find the PR"
                " number and head commit; GITHUB_SHA is a merge or base commit, not the PR."
                " Pass --sha and --ref refs/pull/N/head to override"
            )
        facts.pr = int(number)
        facts.sha = head_sha
        facts.ref = f"refs/pull/{facts.pr}/head"
        facts.base_ref = env.get("GITHUB_BASE_REF") or (pull.get("base") or {}).get("ref")
        facts.head_ref = env.get("GITHUB_HEAD_REF") or (pull.get("head") or {}).get("ref")
        facts.origins.update(sha="event payload pull_request.head.sha", ref="event payload")
    return facts


def codebuild(env: Mapping[str, str]) -> CiFacts | None:
    if not (env.get("CODEBUILD_BUILD_ID") or env.get("CODEBUILD_BUILD_ARN")):
        return None
    facts = CiFacts(
        "codebuild", source_url=gitfacts.public_url(env.get("CODEBUILD_SOURCE_REPO_URL"))
    )
    resolved = env.get("CODEBUILD_RESOLVED_SOURCE_VERSION", "")
    if _SHA.match(resolved):
        facts.sha = resolved
        facts.origins["sha"] = "CODEBUILD_RESOLVED_SOURCE_VERSION"
    trigger = env.get("CODEBUILD_WEBHOOK_TRIGGER", "")
    source_version = env.get("CODEBUILD_SOURCE_VERSION", "")
    kind, _, name = trigger.partition("/")
    if trigger and kind in ("branch", "tag", "pr") and name:
        facts.origins["ref"] = "CODEBUILD_WEBHOOK_TRIGGER"
        if kind == "pr":
            _codebuild_pr(facts, name, env)
        else:
            facts.ref = f"refs/{'heads' if kind == 'branch' else 'tags'}/{name}"
    elif source_version.startswith("pr/"):
        facts.origins["ref"] = "CODEBUILD_SOURCE_VERSION"
        _codebuild_pr(facts, source_version[3:], env)
    elif source_version.startswith("refs/"):
        facts.ref = source_version
        facts.origins["ref"] = "CODEBUILD_SOURCE_VERSION"
    elif env.get("CODEBUILD_WEBHOOK_HEAD_REF", "").startswith("refs/"):
        facts.ref = env["CODEBUILD_WEBHOOK_HEAD_REF"]
        facts.origins["ref"] = "CODEBUILD_WEBHOOK_HEAD_REF"
    if _SHA.match(source_version):
        facts.sha = facts.sha or source_version
        facts.origins.setdefault("sha", "CODEBUILD_SOURCE_VERSION")
    elif facts.ref is None and source_version and not source_version.startswith("arn:"):
        facts.source_name = source_version  # a branch or tag: only git can tell which
    return facts


def _codebuild_pr(facts: CiFacts, number: str, env: Mapping[str, str]) -> None:
    if not number.isdigit():
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
    pr = _PR_REF.match(ref)
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
) -> Context:
    facts = github(env) or codebuild(env) or CiFacts("local")
    _apply_flags(facts, cwd, ref, sha)
    git = gitfacts.read(cwd, facts.sha)
    if git is None and not (facts.sha and facts.ref):
        raise ContextError(NO_GIT_HELP.format(path=cwd))
    target = facts.sha or (git.head if git else "")
    head_tags = set(git.tags_at(target)) if git else set()
    if facts.ref is None and git is not None and facts.pr is None:
        _ref_from_git(facts, git, cwd, target, head_tags)
    branch, ref_tag = _apply_ref(facts.ref, facts) if facts.ref else (None, None)
    if facts.pr is not None:
        branch = None
    if ref_tag:
        _check_tag(ref_tag, git, target, facts.origins.get("ref", "the ref"))
        head_tags.add(ref_tag)
    best = semver.highest(sorted(head_tags))
    tag = ref_tag or (best[1] if best else (sorted(head_tags)[0] if head_tags else None))
    shallow = bool(git and git.shallow)
    return Context(
        provider=facts.provider,
        event=facts.event,
        sha=target,
        ref=facts.ref,
        branch=branch,
        tag=tag,
        pr=facts.pr,
        base_ref=facts.base_ref,
        head_ref=facts.head_ref,
        default_branch=default_branch or facts.default_branch or (git.origin_head if git else None),
        dirty=bool(git and git.dirty),
        shallow=shallow,
        head_tags=tuple(sorted(head_tags)),
        repo_tags=tuple(sorted(git.tags)) if git and not shallow else None,
        commit_time=git.commit_time if git else None,
        now=now or dt.datetime.now(dt.timezone.utc),
        source_url=facts.source_url or (git.origin_url if git else None),
        description=facts.description,
        licenses=facts.licenses,
        origins=tuple(sorted(facts.origins.items())),
    )


def _apply_flags(facts: CiFacts, cwd: Path, ref: str | None, sha: str | None) -> None:
    if sha:
        facts.sha, facts.origins["sha"] = _flag_sha(cwd, sha), "--sha"
    if ref:
        if not ref.startswith("refs/"):
            full = gitfacts.resolve_ref(cwd, ref)
            if full is None:
                raise ContextError(f"--ref {ref!r}: no such tag or branch; give a full ref")
            ref = full
        facts.ref, facts.origins["ref"] = ref, "--ref"
        if not _PR_REF.match(ref) and facts.pr is not None:
            # --ref turns a PR run into a run for that branch or tag
            facts.event, facts.pr, facts.base_ref, facts.head_ref = "push", None, None, None


def _ref_from_git(
    facts: CiFacts, git: gitfacts.GitFacts, cwd: Path, target: str, head_tags: set[str]
) -> None:
    if facts.source_name:
        facts.ref = gitfacts.resolve_ref(cwd, facts.source_name)
        if facts.ref:
            facts.origins["ref"] = "CODEBUILD_SOURCE_VERSION"
            return
    # HEAD's branch says nothing about another commit given with --sha or by CI
    if git.branch and target == git.head:
        facts.ref = f"refs/heads/{git.branch}"
    elif head_tags:
        best = semver.highest(sorted(head_tags))
        facts.ref = f"refs/tags/{best[1] if best else sorted(head_tags)[0]}"
    else:
        return
    facts.origins["ref"] = "git"


def _check_tag(tag: str, git: gitfacts.GitFacts | None, target: str, origin: str) -> None:
    points_at = git.tags.get(tag) if git else None
    if points_at and points_at != target:
        raise ContextError(
            f"{origin} names tag {tag}, but git has {tag} on {points_at[:12]}, not on the"
            f" commit being built ({target[:12]}); fetch the tags again"
            " (`git fetch --tags --force`) or pass --sha and --ref that agree"
        )


def _flag_sha(cwd: Path, sha: str) -> str:
    if _SHA.match(sha):
        return sha
    full = gitfacts.resolve_commit(cwd, sha)
    if full is None:
        raise ContextError(f"--sha {sha!r}: not a 40-hex commit id, and git does not know it")
    return full
