"""What the CI service says about the run: GitHub Actions and CodeBuild, read and checked.

GitHub Actions: GITHUB_* and the event payload (`pipeline.events`). CodeBuild:
CODEBUILD_*. Every value that may reach git is checked here (commit ids are 40
hex digits, refs follow git's rules), so a hostile variable is an error that
names it. PR builds name the PR head commit, never GitHub's synthetic merge
commit nor (pull_request_target) the base tip.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from pipeline import events
from pipeline.adapters import git as gitfacts
from pipeline.errors import ContextError

PR_REF = re.compile(r"refs/pull/([1-9][0-9]{0,8})/(?:merge|head)")


def is_pr_event(event: str) -> bool:
    # pull_request, pull_request_target and the review events all carry the PR in the
    # payload, and all have a GITHUB_SHA that is not the PR head.
    return event.startswith("pull_request")


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
    if is_pr_event(event):
        number = payload.pr
        ref_match = PR_REF.fullmatch(ref or "")
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
