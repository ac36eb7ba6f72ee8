"""What is being built: the commit, the ref, the kind of run, and git facts.

`Context` is a plain value; `pipeline.providers` fills it from command-line
flags, then the CI environment (GitHub Actions, CodeBuild), then git itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Context:
    provider: str  # github | codebuild | local
    event: str  # push | pull_request | pull_request_target | schedule | workflow_dispatch | ...
    sha: str
    ref: str | None = None  # refs/heads/x | refs/tags/x | refs/pull/N/head
    branch: str | None = None  # set only when the run is on a branch (not PRs, not tags)
    tag: str | None = None  # the ref's tag, else the highest semver tag on the commit
    #: the ref's tag was named (a tag push, CodeBuild `tag/...`, `--ref refs/tags/...`):
    #: that tag is the version, whatever else points at the commit
    tag_event: bool = False
    pr: int | None = None
    base_ref: str | None = None  # a PR's target branch
    head_ref: str | None = None  # a PR's source branch (never a `branch` tag: PRs are not pushes)
    default_branch: str | None = None
    dirty: bool = False
    shallow: bool = False
    #: every tag pointing at `sha` (the ref's tag included)
    head_tags: tuple[str, ...] = ()
    #: every tag in the repository; None when unknown (no git, or a shallow clone)
    repo_tags: tuple[str, ...] | None = None
    #: why `repo_tags` is unknown, and how to fix it
    repo_tags_note: str | None = None
    commit_time: dt.datetime | None = None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    source_url: str | None = None
    description: str | None = None
    licenses: str | None = None
    #: where each fact came from, e.g. {"sha": "github payload (PR head)"}
    origins: tuple[tuple[str, str], ...] = ()

    @property
    def is_pr(self) -> bool:
        return self.pr is not None

    @property
    def short_sha(self) -> str:
        return self.sha[:7]

    def origin_lines(self) -> list[str]:
        """Which provider won for each fact, for anyone debugging a surprising tag (-v)."""
        return [f"{fact} {getattr(self, fact, None)}: from {src}" for fact, src in self.origins]

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "event": self.event,
            "ref": self.ref,
            "sha": self.sha,
            "branch": self.branch,
            "tag": self.tag,
            "pr": self.pr,
            "default_branch": self.default_branch,
            "dirty": self.dirty,
            "shallow": self.shallow,
        }
