"""Asking again until an answer is final or the time is up, with time injected.

One loop for every wait on something that finishes later (an ECS service, a CodeDeploy
deployment, a Kubernetes Deployment, an image's scan): look; stop when the answer is
final; tell the caller about an answer that is not; give up once the deadline has
passed; else sleep until the next look, never past the deadline. The caller's clock and
sleep are the only time it knows, so tests drive it with a fake clock that moves only
when slept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

Now = Callable[[], float]  # monotonic seconds
Sleep = Callable[[float], None]


class Deadline:
    """A point in injected time, and how far away it is.

    The one deadline of the package: a wait's (`until`) and a retried registry
    operation's budget and each of its tries (`retry.deadline`, which the adapters
    read to bound their I/O).
    """

    def __init__(self, now: Now, seconds: float) -> None:
        self.now = now
        self.seconds = seconds
        self.start = now()

    @property
    def at(self) -> float:
        return self.start + self.seconds

    def left(self) -> float:
        return max(0.0, self.at - self.now())

    def passed(self) -> bool:
        return self.now() >= self.at

    def elapsed(self) -> float:
        return self.now() - self.start


@dataclass(frozen=True)
class Polled(Generic[T]):
    """The last answer, and whether the time ran out before it was final."""

    answer: T
    timed_out: bool


def every(seconds: float) -> Callable[[int], float]:
    """The same pause after every look."""
    return lambda _look: seconds


def _nothing(_answer: object) -> None:
    return None


def until(
    look: Callable[[Deadline], T],
    final: Callable[[T], bool],
    *,
    seconds: float,
    now: Now,
    sleep: Sleep,
    interval: Callable[[int], float],
    pending: Callable[[T], None] = _nothing,
) -> Polled[T]:
    """Look until `final(answer)`, or until `seconds` have passed since the first look.

    `look` gets the deadline (so its own retries can stay inside it); `pending` hears
    every answer that is not final, before the deadline is checked; `interval(n)` is
    the pause after the n-th look (0-based), cut short at the deadline. The last look
    comes at or after the deadline, so an answer that became final meanwhile counts.
    """
    return within(
        Deadline(now, seconds), look, final, sleep=sleep, interval=interval, pending=pending
    )


def within(
    deadline: Deadline,
    look: Callable[[Deadline], T],
    final: Callable[[T], bool],
    *,
    sleep: Sleep,
    interval: Callable[[int], float],
    pending: Callable[[T], None] = _nothing,
) -> Polled[T]:
    """`until`, under a deadline the caller started before the first look: a wait that
    asks something first (a setting) under the same time limit."""
    looks = 0
    while True:
        answer = look(deadline)
        if final(answer):
            return Polled(answer, timed_out=False)
        pending(answer)
        left = deadline.left()
        if left <= 0:
            return Polled(answer, timed_out=True)
        sleep(min(interval(looks), left))
        looks += 1
