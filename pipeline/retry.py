"""How registry failures are classified and retried.

`docker push` retries a layer five times with 5-20 s pauses but gives up at
once on a 429, on a reset during HEAD or the manifest PUT, and reports every
failure in-band with HTTP 200. We wrap the *whole* push (layers already
uploaded answer "Layer already exists", so a retry is cheap), retry what can
pass on a second try, re-authenticate once on an expired or rejected
credential, and fail at once on what retrying cannot fix.
"""

from __future__ import annotations

import enum
import os
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pipeline.errors import PushError

T = TypeVar("T")


class Kind(enum.Enum):
    TRANSIENT = "transient"
    REAUTH = "reauth"
    IMMUTABLE = "immutable"
    FATAL = "fatal"


# Order matters: ECR's expiry message also contains "denied".
_RULES: tuple[tuple[Kind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile("|".join(words), re.IGNORECASE))
    for kind, words in (
        (
            Kind.IMMUTABLE,
            (
                r"tag invalid",
                r"cannot be overwritten because the repository is immutable",
                r"ImageTagAlreadyExists",
            ),
        ),
        (
            Kind.REAUTH,
            (
                r"authorization token has expired",
                r"no basic auth credentials",
                r"unauthorized",
                r"authentication required",
                r"\b401\b",
            ),
        ),
        (
            Kind.FATAL,
            (
                r"name unknown",
                r"does not exist in the registry",
                r"repository (?:.* )?does not exist",
                r"An image does not exist locally",
                r"No such image",
                r"reference does not exist",
                r"denied",
                r"not authorized to perform",
                r"manifest invalid",
                r"name invalid",
            ),
        ),
        (
            Kind.TRANSIENT,
            (
                r"reset by peer",
                r"connection reset",
                r"broken pipe",
                r"\bEOF\b",
                r"time(?:d )?out",
                r"temporar",
                r"connection refused",
                r"\b5\d\d\b",
                r"Service Unavailable",
                r"Bad Gateway",
                r"\b429\b",
                r"toomanyrequests",
                r"too many requests",
                r"blob upload unknown",
            ),
        ),
    )
)


def classify(message: str) -> Kind:
    for kind, pattern in _RULES:
        if pattern.search(message):
            return kind
    return Kind.TRANSIENT  # unknown: try again, a bounded number of times


class RegistryFailure(Exception):
    """One failed registry operation, with its class and the registry's words.

    `progressed`: the attempt got something done before it failed (a layer
    made it), so the next one has less left to do.
    """

    def __init__(self, message: str, kind: Kind | None = None, *, progressed: bool = False):
        super().__init__(message)
        self.kind = kind or classify(message)
        self.progressed = progressed


_PROGRESS_ALLOWANCE = 4  # attempts that made progress: at most this many times `attempts`


def _accepted(verify: Callable[[], bool]) -> bool:
    """True unless the registry said no; a check that itself failed proves nothing."""
    try:
        return verify()
    except RegistryFailure as err:
        return err.kind is not Kind.REAUTH


@dataclass(frozen=True)
class Policy:
    attempts: int = 20
    total_seconds: float = 600.0
    first_wait: float = 0.5
    max_wait: float = 8.0

    @classmethod
    def from_env(cls) -> Policy:
        return cls(
            attempts=int(os.environ.get("PIPELINE_PUSH_ATTEMPTS", cls.attempts)),
            total_seconds=float(os.environ.get("PIPELINE_PUSH_TIMEOUT", cls.total_seconds)),
        )


def call(
    operation: Callable[[], T],
    *,
    what: str,
    policy: Policy,
    reauth: Callable[[], None] | None = None,
    verify: Callable[[], bool] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    log: Callable[[str], None] = lambda _m: None,
) -> T:
    """Run `operation`, retrying transient failures with exponential backoff and jitter.

    A rejected or expired credential triggers one `reauth()` and an immediate
    retry. A second rejection is final unless `verify()` shows the registry
    accepts our credentials: dockerd sends none when its ping (`GET /v2/`) got
    a 5xx or a reset instead of the 401 challenge, and the registry's
    "authentication required" is then a transient failure. Permanent failures
    raise at once. `sleep` and `clock` are injected so tests never wait.
    """
    import tenacity

    reauthed = False
    immediate = False  # the next attempt uses new credentials: no reason to wait
    started = clock()
    fruitless = 0  # failed attempts that got nothing done

    def should_retry(state: tenacity.RetryCallState) -> bool:
        nonlocal reauthed, fruitless, immediate
        err = state.outcome.exception() if state.outcome else None
        immediate = False
        if not isinstance(err, RegistryFailure):
            return False
        fruitless += 0 if err.progressed else 1
        if err.kind is Kind.REAUTH:
            if reauth is not None and not reauthed:
                reauthed = immediate = True
                log(f"{what}: credentials rejected ({err}); fetching new ones")
                reauth()
                return True
            if verify is not None and _accepted(verify):
                log(f"{what}: {err}, but the registry accepts our credentials; retrying")
                return True
            return False
        return err.kind is Kind.TRANSIENT

    def wait(state: tenacity.RetryCallState) -> float:
        if immediate:
            return 0.0
        # Exponential in the attempts that got nowhere, with full jitter: an
        # attempt that moved a layer does not make the registry look sicker.
        high = min(policy.max_wait, policy.first_wait * 2 ** max(fruitless - 1, 0))
        return random.uniform(0.0, high)  # noqa: S311 - jitter, not a secret

    def should_stop(state: tenacity.RetryCallState) -> bool:
        # A push of many layers through a flaky link fails many times while it
        # progresses (each layer that made it is skipped next time, as dockerd
        # counts attempts per layer): only fruitless attempts use up the budget,
        # under a hard cap and the time limit.
        return (
            fruitless >= policy.attempts
            or state.attempt_number >= policy.attempts * _PROGRESS_ALLOWANCE
            or clock() - started >= policy.total_seconds
        )

    def before_sleep(state: tenacity.RetryCallState) -> None:
        err = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        made = "; some layers made it" if getattr(err, "progressed", False) else ""
        log(f"{what}: attempt {state.attempt_number} failed ({err}{made}); retrying in {wait:.1f}s")

    retrying = tenacity.Retrying(
        stop=should_stop,
        wait=wait,
        retry=should_retry,
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(operation)
    except RegistryFailure as err:
        if err.kind is Kind.TRANSIENT:
            made = retrying.statistics.get("attempt_number", policy.attempts)
            raise PushError(f"{what}: gave up after {made} attempts: {err}") from None
        raise
