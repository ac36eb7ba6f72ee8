"""The poll loop: final answers end it, the deadline ends it, pauses follow the schedule
and never pass the deadline, and only the injected clock and sleep are used."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from pipeline import poll


@dataclass
class Clock:
    """Moves only when slept."""

    t: float = 100.0
    slept: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.slept.append(seconds)
        self.t += seconds


def _answers(*values: str) -> Iterator[str]:
    yield from values
    while True:
        yield values[-1]


@dataclass(frozen=True)
class Case:
    answers: tuple[str, ...]
    seconds: float
    schedule: tuple[float, ...]  # pauses, then the last one for ever
    answer: str
    timed_out: bool
    slept: tuple[float, ...]


CASES = {
    "final at once: no sleep": Case(("done",), 10, (1,), "done", False, ()),
    "final on the third look": Case(("a", "b", "done"), 10, (1,), "done", False, (1, 1)),
    "the schedule is followed, then its last pause": Case(
        ("a", "a", "a", "a", "done"), 60, (0.5, 1, 2), "done", False, (0.5, 1, 2, 2)
    ),
    "time runs out: the last answer, timed out": Case(
        ("a", "b", "c", "d"), 3, (1,), "d", True, (1, 1, 1)
    ),
    "the last pause is cut at the deadline": Case(("a",), 2.5, (1,), "a", True, (1, 1, 0.5)),
    "an answer final at the deadline still counts": Case(
        ("a", "b", "done"), 2, (1,), "done", False, (1, 1)
    ),
    "no time at all: one look": Case(("a",), 0, (1,), "a", True, ()),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_poll_until_final_or_the_deadline(case: Case) -> None:
    clock = Clock()
    answers = _answers(*case.answers)
    seen: list[str] = []

    def interval(n: int) -> float:
        return case.schedule[min(n, len(case.schedule) - 1)]

    polled = poll.until(
        lambda _deadline: next(answers),
        lambda answer: answer == "done",
        seconds=case.seconds,
        now=clock.now,
        sleep=clock.sleep,
        interval=interval,
        pending=seen.append,
    )
    assert (polled.answer, polled.timed_out) == (case.answer, case.timed_out)
    assert tuple(clock.slept) == case.slept
    assert "done" not in seen  # only answers that are not final are pending
    assert len(seen) == len(clock.slept) + polled.timed_out


def test_look_gets_the_deadline_of_the_whole_wait() -> None:
    clock = Clock()
    seen: list[tuple[float, float]] = []

    def look(deadline: poll.Deadline) -> int:
        seen.append((deadline.at, deadline.left()))
        return len(seen)

    poll.until(
        look,
        lambda n: n == 3,
        seconds=10,
        now=clock.now,
        sleep=clock.sleep,
        interval=poll.every(2),
    )
    assert seen == [(110, 10), (110, 8), (110, 6)]


def test_a_deadline_measures_injected_time() -> None:
    clock = Clock()
    deadline = poll.Deadline(clock.now, 5)
    assert (deadline.at, deadline.left(), deadline.passed(), deadline.elapsed()) == (
        105,
        5,
        False,
        0,
    )
    clock.sleep(7)
    assert (deadline.left(), deadline.passed(), deadline.elapsed()) == (0, True, 7)


def test_within_keeps_a_deadline_started_before_the_first_look() -> None:
    clock = Clock()
    deadline = poll.Deadline(clock.now, 10)
    clock.sleep(7)  # the caller asked something else first, under the same deadline
    seen: list[float] = []

    def look(given: poll.Deadline) -> str:
        assert given is deadline
        seen.append(clock.now())
        return "a"

    polled = poll.within(
        deadline, look, lambda answer: answer == "done", sleep=clock.sleep, interval=poll.every(2)
    )
    assert (polled.answer, polled.timed_out) == ("a", True)
    assert seen == [107, 109, 110]  # three seconds were left, not ten
    assert clock.slept == [7, 2, 1]
