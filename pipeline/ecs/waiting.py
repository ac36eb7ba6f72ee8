"""ECS's pace of polling, and retrying against a deadline, with time injected.

The aws-actions ECS action waits with the SDK's services-stable waiter, which
asks every 15 s (reference/auth-push-deploy.md B8), so a finished rollout goes
unnoticed for up to 15 s. We ask quickly at first and never less often than
every 2 s: a rollout that has finished is seen within 3 s, and a 15-minute
wait still costs only a few hundred DescribeServices calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pipeline import log
from pipeline.ecs.ports import EcsApiError, Timing
from pipeline.poll import Deadline

__all__ = ["Deadline", "poll_interval", "retrying"]

T = TypeVar("T")

POLL_INTERVALS = (0.5, 1.0, 1.0, 1.5)  # then POLL_CAP for ever
POLL_CAP = 2.0

RETRY_ATTEMPTS = 8  # throttled or failed calls in a row before giving up
RETRY_BASE = 0.5
RETRY_CAP = 10.0


def poll_interval(poll: int) -> float:
    """Seconds to wait after the `poll`-th look (0-based)."""
    return POLL_INTERVALS[poll] if poll < len(POLL_INTERVALS) else POLL_CAP


def retrying(
    operation: Callable[[], T],
    *,
    what: str,
    timing: Timing,
    deadline: Deadline | None = None,
    attempts: int = RETRY_ATTEMPTS,
) -> T:
    """Run `operation`; throttling and passing faults are retried with full jitter.

    Exponential backoff capped at RETRY_CAP, for at most `attempts` tries and
    never past `deadline` (with a few seconds of grace, so that a throttle at
    the very end does not turn a finished rollout into a timeout).
    """
    failures = 0
    while True:
        try:
            return operation()
        except EcsApiError as err:
            if not err.retryable:
                raise
            failures += 1
            pause = timing.jitter(0.0, min(RETRY_CAP, RETRY_BASE * 2**failures))
            late = deadline is not None and timing.now() + pause > deadline.at + RETRY_CAP
            if failures >= attempts or late:
                raise EcsApiError(
                    f"{err} (gave up after {failures} attempts)", code=err.code
                ) from None
            log.LOG.info("%s: %s; retrying in %.1fs", what, err, pause)
            timing.sleep(pause)
