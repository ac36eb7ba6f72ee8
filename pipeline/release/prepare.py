"""The release to make, from the config and the run's context: pure, refusals first."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pipeline.config.schema import Config
from pipeline.context import Context
from pipeline.errors import UsageError
from pipeline.release import policy
from pipeline.release.version import next_release


@dataclass(frozen=True)
class Release:
    tag: str
    version: str
    previous: str | None
    sha: str
    prefix: str
    #: images the run builds; empty: every image
    images: tuple[str, ...]

    @property
    def ref(self) -> str:
        return f"refs/tags/{self.tag}"

    def describe(self) -> str:
        after = f"after {self.previous}" if self.previous else "first release"
        return f"{self.tag} ({after}) on {self.sha[:12]}"


def prepare(
    config: Config,
    context: Context,
    *,
    bump: str,
    images: Sequence[str] = (),
    allow_dirty: bool = False,
    allow_branch: bool = False,
    remote_tags: Callable[[], Iterable[str]] = tuple,
) -> Release:
    """The next release; a UsageError naming every reason when there must be none.

    `remote_tags` is asked only once every local check has passed: a refusal
    never waits for the network.
    """
    selection = policy.select(config, images)
    problems = policy.refusals(context, allow_dirty=allow_dirty, allow_branch=allow_branch)
    if problems:
        raise UsageError("refusing to release:\n  " + "\n  ".join(problems))
    done = policy.already_released(context.head_tags, selection.prefix)
    if done:
        raise UsageError(
            f"HEAD ({context.sha[:12]}) is already released as {done}: commit something new"
            " to release, or run the pipeline for that tag (`pipeline run --ref"
            f" refs/tags/{done}`)"
        )
    known = set(context.repo_tags or ()) | set(remote_tags())
    nxt = next_release(known, bump, selection.prefix)
    return Release(
        nxt.tag, nxt.version, nxt.previous, context.sha, selection.prefix, selection.images
    )
