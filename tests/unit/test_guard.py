"""Never backwards: the verdict for each combination of what git and the labels know."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pipeline.guard import CREATED, REVISION, check
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
    Case(
        "git cannot tell, created labels say older",
        OLD,
        {REVISION: NEW, CREATED: LATE},
        {REVISION: OLD, CREATED: EARLY},
        git_unknown=True,
        allowed=False,
        rule="created time",
        says="decided by the images' created labels",
    ),
    Case(
        "git cannot tell, created labels say newer",
        NEW,
        {REVISION: OLD, CREATED: EARLY},
        {REVISION: NEW, CREATED: LATE},
        git_unknown=True,
        rule="created time",
    ),
    Case(
        "git cannot tell, same created time: allowed",
        NEW,
        {REVISION: OLD, CREATED: EARLY},
        {REVISION: NEW, CREATED: EARLY},
        git_unknown=True,
        rule="created time",
    ),
    Case(
        "git cannot tell, no created labels: allowed, undecided",
        NEW,
        {REVISION: OLD},
        {REVISION: NEW},
        git_unknown=True,
        rule="undecided",
        says="cannot order",
    ),
    Case(
        "created labels with offsets and fractions compare as times",
        OLD,
        {REVISION: NEW, CREATED: "2026-01-01T12:00:00.5+02:00"},
        {REVISION: OLD, CREATED: "2026-01-01T09:00:00Z"},
        git_unknown=True,
        allowed=False,
        rule="created time",
    ),
    Case(
        "nanosecond fractions (as Go writes them) compare as times",
        NEW,
        {REVISION: OLD, CREATED: "2026-01-01T10:00:00.123456789Z"},
        {REVISION: NEW, CREATED: "2026-01-01T10:00:00.987654321Z"},
        git_unknown=True,
        rule="created time",
    ),
    Case(
        "an unparsable created label counts as none",
        OLD,
        {REVISION: NEW, CREATED: "yesterday"},
        {REVISION: OLD, CREATED: EARLY},
        git_unknown=True,
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
    verdict = check(
        commit=case.commit,
        image=DEPLOYING,
        running_images=[RUNNING],
        labels=labels,
        ancestry=FakeAncestry(case.pairs, unknown=case.git_unknown),
        force=case.force,
    )
    assert (verdict.allowed, verdict.rule) == (case.allowed, case.rule), verdict.message
    assert case.says in verdict.message


def test_any_running_image_newer_refuses() -> None:
    second = RUNNING.replace("b" * 64, "c" * 64)
    verdict = check(
        commit=OLD,
        image=DEPLOYING,
        running_images=[RUNNING, second, RUNNING],
        labels=FakeLabels({RUNNING: {REVISION: OLD}, second: {REVISION: NEW}}),
        ancestry=FakeAncestry([(OLD, NEW)]),
        force=False,
    )
    assert not verdict.allowed
    assert verdict.running == NEW


def test_git_is_asked_before_the_labels_and_only_then() -> None:
    labels = FakeLabels({RUNNING: {REVISION: OLD}})
    ancestry = FakeAncestry([(OLD, NEW)])
    check(
        commit=NEW,
        image=DEPLOYING,
        running_images=[RUNNING],
        labels=labels,
        ancestry=ancestry,
        force=False,
    )
    assert ancestry.asked == [(NEW, OLD)]
    assert labels.asked == [RUNNING], "the deploying image's labels are read only when needed"
