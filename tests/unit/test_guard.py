"""Never backwards: the verdict for each combination of what git and the labels know."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pipeline.guard import CREATED, REVISION, GuardVerdict, check
from tests.unit.ecs.fakes import FakeAncestry, FakeLabels

OLD, NEW, OTHER = "1" * 40, "2" * 40, "3" * 40
RUNNING = "reg.example/shop/web@sha256:" + "b" * 64
DEPLOYING = "reg.example/shop/web@sha256:" + "a" * 64
EARLY, LATE = "2026-01-01T10:00:00Z", "2026-01-02T10:00:00Z"


@dataclass(frozen=True)
class Case:
    id: str
    commit: str | None
    running_labels: dict[str, str] | None
    deploying_labels: dict[str, str] | None = None
    pairs: tuple[tuple[str, str], ...] = ()  # ancestor -> descendant, as git knows it
    git_unknown: bool = False
    force: bool = False
    allowed: bool = True
    rule: str = ""
    says: str = ""


#: an image's (revision, created) labels; created None: the image has no created label
Labels = tuple[str, str | None]


def _labels(revision: str, created: str | None) -> dict[str, str]:
    return {REVISION: revision} if created is None else {REVISION: revision, CREATED: created}


def git_cannot_tell(
    id: str, *, deploying: Labels, running: Labels, allowed: bool = True, rule: str, says: str = ""
) -> Case:
    """git cannot order the two commits: only the images' created labels are left to decide."""
    return Case(
        id,
        deploying[0],
        _labels(*running),
        _labels(*deploying),
        git_unknown=True,
        allowed=allowed,
        rule=rule,
        says=says,
    )


def verdict_of(
    commit: str | None,
    running_images: list[str],
    labels: FakeLabels,
    ancestry: FakeAncestry,
    force: bool = False,
) -> GuardVerdict:
    """`check` for the image being deployed (DEPLOYING)."""
    return check(
        commit=commit,
        image=DEPLOYING,
        running_images=running_images,
        labels=labels,
        ancestry=ancestry,
        force=force,
    )


CASES = [
    Case("newer commit, git decides", NEW, {REVISION: OLD}, pairs=((OLD, NEW),), rule="git"),
    Case(
        "older commit refused by git, naming both",
        OLD,
        {REVISION: NEW},
        pairs=((OLD, NEW),),
        allowed=False,
        rule="git",
        says=f"commit {OLD} is an ancestor of {NEW}",
    ),
    Case(
        "older commit allowed with --force",
        OLD,
        {REVISION: NEW},
        pairs=((OLD, NEW),),
        force=True,
        rule="force",
        says="--force: deploying although",
    ),
    Case("diverged branches: not an ancestor", OTHER, {REVISION: NEW}, rule="git"),
    Case("same commit is a redeploy", NEW, {REVISION: NEW}, rule="same commit", says="redeploy"),
    Case(
        "no revision label: allowed with a note",
        NEW,
        {},
        rule="no running commit",
        says="has no revision label",
    ),
    Case(
        "labels unreadable: allowed with a note",
        NEW,
        None,
        rule="no running commit",
        says="could not be read",
    ),
    git_cannot_tell(
        "git cannot tell, created labels say older",
        deploying=(OLD, EARLY),
        running=(NEW, LATE),
        allowed=False,
        rule="created time",
        says="decided by the images' created labels",
    ),
    git_cannot_tell(
        "git cannot tell, created labels say newer",
        deploying=(NEW, LATE),
        running=(OLD, EARLY),
        rule="created time",
    ),
    git_cannot_tell(
        "git cannot tell, same created time: allowed",
        deploying=(NEW, EARLY),
        running=(OLD, EARLY),
        rule="created time",
    ),
    git_cannot_tell(
        "git cannot tell, no created labels: allowed, undecided",
        deploying=(NEW, None),
        running=(OLD, None),
        rule="undecided",
        says="cannot order",
    ),
    git_cannot_tell(
        "created labels with offsets and fractions compare as times",
        deploying=(OLD, "2026-01-01T09:00:00Z"),
        running=(NEW, "2026-01-01T12:00:00.5+02:00"),
        allowed=False,
        rule="created time",
    ),
    git_cannot_tell(
        "nanosecond fractions (as Go writes them) compare as times",
        deploying=(NEW, "2026-01-01T10:00:00.987654321Z"),
        running=(OLD, "2026-01-01T10:00:00.123456789Z"),
        rule="created time",
    ),
    git_cannot_tell(
        "an unparsable created label counts as none",
        deploying=(OLD, EARLY),
        running=(NEW, "yesterday"),
        rule="undecided",
    ),
    Case(
        "unknown deploying commit: allowed",
        None,
        {REVISION: NEW},
        rule="undecided",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_verdicts(case: Case) -> None:
    labels = FakeLabels({RUNNING: case.running_labels, DEPLOYING: case.deploying_labels})
    ancestry = FakeAncestry(case.pairs, unknown=case.git_unknown)
    verdict = verdict_of(case.commit, [RUNNING], labels, ancestry, force=case.force)
    assert (verdict.allowed, verdict.rule) == (case.allowed, case.rule), verdict.message
    assert case.says in verdict.message


def test_any_running_image_newer_refuses() -> None:
    second = RUNNING.replace("b" * 64, "c" * 64)
    labels = FakeLabels({RUNNING: {REVISION: OLD}, second: {REVISION: NEW}})
    verdict = verdict_of(OLD, [RUNNING, second, RUNNING], labels, FakeAncestry([(OLD, NEW)]))
    assert not verdict.allowed
    assert verdict.running == NEW


def test_git_is_asked_before_the_labels_and_only_then() -> None:
    labels = FakeLabels({RUNNING: {REVISION: OLD}})
    ancestry = FakeAncestry([(OLD, NEW)])
    verdict_of(NEW, [RUNNING], labels, ancestry)
    assert ancestry.asked == [(NEW, OLD)]
    assert labels.asked == [RUNNING], "the deploying image's labels are read only when needed"
