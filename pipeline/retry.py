"""How registry failures are classified and retried: a time budget, not a count.

`docker push` retries a layer five times with 5-20 s pauses but gives up at
once on a 429, on a reset during HEAD or the manifest PUT, and reports every
failure in-band with HTTP 200. We wrap the *whole* push (layers already
uploaded answer "Layer already exists", so a retry is cheap), retry what can
pass on a second try, re-authenticate once on an expired or rejected
credential, and fail at once on what retrying cannot fix.

The budget is a deadline (PIPELINE_PUSH_TIMEOUT, 10 minutes by default): a
count of attempts ran out in seconds on a registry failing one request in
five, before the backoff had grown. Each try runs under the time that is
left (`current_deadline`, which the adapters read to bound their I/O), so the
deadline is a hard bound. Only failures with a transient signature are
retried; anything unknown is final. Time, sleep, jitter and cancellation are
injected (`Waits`), so no test waits and none patches `random`.
"""

from __future__ import annotations

import contextlib
import enum
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from pipeline.errors import Interrupted, PushError, RegistryError
from pipeline.poll import Deadline

T = TypeVar("T")


class Kind(enum.Enum):
    TRANSIENT = "transient"  # may pass on a later try
    REAUTH = "reauth"  # credentials missing or rejected (401): fetch new ones once
    EXPIRED = "expired"  # the token expired (ECR's 403): fetch new ones once, then final
    IMMUTABLE = "immutable"  # the tag exists in an IMMUTABLE repository: the caller decides
    FATAL = "fatal"  # retrying cannot fix it


# HTTP statuses only where a message says they are statuses: a 5xx count, a
# port or a digest fragment in a message is not a server error.
_STATUS = r"(?:HTTP(?:/[\d.]+)?|status(?:\s+code)?|status:|code)[\s:=]*"
_5XX_REASONS = (
    r"Internal Server Error|Not Implemented|Bad Gateway|Service Unavailable"
    r"|Gateway Time-?out|Insufficient Storage"
)

#: Checked in order, first match wins: specific permanent failures first, so
#: that "lookup HOST: i/o timeout" (DNS) or "x509: ... timeout" never reads as
#: a transient timeout, and ECR's expiry message (which says "denied") is not
#: taken for a refusal. Anything that matches nothing is FATAL.
RULES: tuple[tuple[Kind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile("|".join(words), re.IGNORECASE))
    for kind, words in (
        (
            Kind.FATAL,
            (  # TLS and DNS: the address or the trust is wrong, not the moment
                r"x509:",
                r"certificate (?:signed by unknown|has expired|is not valid|verify failed)",
                r"CERTIFICATE_VERIFY_FAILED",
                r"tls: failed to verify",
                r"server gave HTTP response to HTTPS client",
                r"no such host",
                r"name resolution",
                r"Name or service not known",
                r"nodename nor servname",
                r"Failed to resolve",
                r"NameResolutionError",
                r"getaddrinfo failed",
                r"dial tcp: lookup ",
                r"invalid reference format",
                r"repository name must be lowercase",
            ),
        ),
        (
            Kind.IMMUTABLE,
            (
                r"tag invalid",
                r"TAG_INVALID",
                r"cannot be overwritten because the repository is immutable",
                r"ImageTagAlreadyExists",
            ),
        ),
        (Kind.EXPIRED, (r"authorization token has expired",)),
        (
            Kind.REAUTH,
            (
                r"no basic auth credentials",
                r"unauthorized",
                r"authentication required",
                _STATUS + r"401\b",
                r"\b401 Unauthorized",
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
                r"forbidden",
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
                r"connection refused",
                r"connection aborted",
                r"broken pipe",
                # Go's words when the connection it was writing to was closed under it
                r"use of closed network connection",
                r"\bEOF\b",
                r"RemoteDisconnected",
                r"Remote end closed connection",
                r"Connection broken",
                r"IncompleteRead",
                r"timed out",
                r"timeout",
                r"time-out",
                r"deadline exceeded",
                _STATUS + r"5\d\d\b",
                r"\b5\d\d (?:" + _5XX_REASONS + r")",
                r"service unavailable",
                r"bad gateway",
                _STATUS + r"429\b",
                r"\b429 Too Many Requests",
                r"toomanyrequests",
                r"too many requests",
                r"blob upload unknown",  # its upload session died with a reset: start again
            ),
        ),
    )
)


def classify(message: str) -> Kind:
    for kind, pattern in RULES:
        if pattern.search(message):
            return kind
    return Kind.FATAL  # unknown: retrying what we do not understand only delays the error


def status_kind(status: int) -> Kind:
    """The class of an HTTP status a registry or token service answered with."""
    if status == 401:
        return Kind.REAUTH
    if status in (408, 429) or 500 <= status <= 599:
        return Kind.TRANSIENT
    return Kind.FATAL


class RegistryFailure(RegistryError):
    """One failed registry operation, with its class and the registry's words.

    `progressed`: the attempt got something done before it failed (a layer
    made it), so the next one has less left to do.
    """

    def __init__(self, message: str, kind: Kind | None = None, *, progressed: bool = False):
        super().__init__(message)
        self.kind = kind or classify(message)
        self.progressed = progressed


# --------------------------------------------------------------------------- deadlines


_LOCAL = threading.local()
_FLOOR = 0.05  # a timeout of 0 means "no timeout" to some clients


def current_deadline() -> Deadline | None:
    """The deadline of the try running on this thread, if any."""
    deadline: Deadline | None = getattr(_LOCAL, "deadline", None)
    return deadline


@contextlib.contextmanager
def deadline(limit: Deadline) -> Iterator[Deadline]:
    """Run the block under `limit` (or an enclosing, earlier deadline)."""
    outer = current_deadline()
    inner = limit if outer is None or limit.at <= outer.at else outer
    _LOCAL.deadline = inner
    try:
        yield inner
    finally:
        _LOCAL.deadline = outer


def clip(timeout: float) -> float:
    """`timeout`, or less when the current try has less time left."""
    limit = current_deadline()
    if limit is None:
        return timeout
    return max(_FLOOR, min(timeout, limit.left()))


def bounded(operation: Callable[[], T], what: str) -> T:
    """Run a call that cannot be given a timeout (boto3) under the current deadline.

    The call runs on a helper thread; when the deadline passes first, the try
    fails as a timeout and the helper is left to end on its own (the client's
    own timeouts end it).
    """
    limit = current_deadline()
    if limit is None:
        return operation()
    done = threading.Event()
    values: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            values.append(operation())
        except BaseException as err:  # noqa: BLE001 - handed to the caller's thread below
            errors.append(err)
        finally:
            done.set()

    threading.Thread(target=run, name="bounded-call", daemon=True).start()
    if not done.wait(limit.left()):
        raise RegistryFailure(f"{what}: no answer within the time left (timeout)", Kind.TRANSIENT)
    if errors:
        raise errors[0]
    return values[0]


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class Policy:
    #: the whole operation, tries and pauses, ends within this many seconds
    timeout: float = 600.0
    #: one try at most this long (None: whatever the budget has left)
    try_timeout: float | None = None
    first_wait: float = 1.0
    max_wait: float = 30.0
    #: PIPELINE_PUSH_ATTEMPTS: an optional cap on tries chosen by the user
    max_tries: int | None = None
    #: a try is not started with less time than this left
    min_try: float = 1.0


#: Guards a loop that never waits (a bug), not the budget: the deadline is.
_TRY_GUARD = 10_000

_JITTER = random.Random()  # noqa: S311 - jitter, not a secret


def full_jitter(high: float) -> float:
    """Anywhere in [0, high]: clients that failed together do not come back together."""
    return _JITTER.uniform(0.0, high)


@dataclass(frozen=True)
class Waits:
    """How the retry loop waits: injected, so tests never sleep or patch `random`."""

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[float], float] = full_jitter
    #: true once the run is interrupted: nothing more is tried
    cancelled: Callable[[], bool] = field(default=lambda: False)


class Pause:
    """The run's waits: a sleep that ends at once on Ctrl-C, which also stops retries."""

    def __init__(self) -> None:
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    def sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def waits(self) -> Waits:
        return Waits(sleep=self.sleep, cancelled=self._stop.is_set)


def _accepted(verify: Callable[[], bool]) -> bool:
    """True unless the registry said no; a check that itself failed proves nothing."""
    try:
        return verify()
    except RegistryFailure as err:
        return err.kind not in (Kind.REAUTH, Kind.EXPIRED)


class _Loop:
    """One `call`: its budget, its backoff, and why it stopped."""

    def __init__(
        self,
        what: str,
        policy: Policy,
        waits: Waits,
        reauth: Callable[[], None] | None,
        verify: Callable[[], bool] | None,
        log: Callable[[str], None],
    ) -> None:
        self.what, self.policy, self.waits = what, policy, waits
        self.reauth, self.verify, self.log = reauth, verify, log
        self.budget = Deadline(waits.clock, policy.timeout)
        self.fruitless = 0  # failed tries that got nothing done: they grow the backoff
        self.reauthed = False
        self.next_wait = 0.0
        self.exhausted: str | None = None  # why the budget ended the loop

    def attempt(self, operation: Callable[[], T]) -> T:
        if self.waits.cancelled():
            raise Interrupted(f"{self.what}: interrupted")
        limit = self.budget
        try_timeout = self.policy.try_timeout
        if try_timeout is not None and try_timeout < limit.left():
            limit = Deadline(self.waits.clock, try_timeout)
        with deadline(limit):
            return operation()

    def retryable(self, err: RegistryFailure) -> bool:
        if err.kind in (Kind.REAUTH, Kind.EXPIRED):
            if self.reauth is not None and not self.reauthed:
                self.reauthed = True
                self.log(f"{self.what}: credentials rejected ({err}); fetching new ones")
                self.reauth()
                self.next_wait = 0.0  # new credentials: no reason to wait
                return True
            if err.kind is Kind.REAUTH and self.verify is not None and _accepted(self.verify):
                self.log(f"{self.what}: {err}, but the registry accepts our credentials; retrying")
                return self.schedule(err)
            return False
        return err.kind is Kind.TRANSIENT and self.schedule(err)

    def schedule(self, err: RegistryFailure) -> bool:
        # Exponential in the tries that got nowhere, with full jitter: a try
        # that moved a layer does not make the registry look sicker.
        self.fruitless += 0 if err.progressed else 1
        policy = self.policy
        high = min(policy.max_wait, policy.first_wait * 2 ** max(self.fruitless - 1, 0))
        self.next_wait = max(0.0, min(high, self.waits.jitter(high)))
        return True

    def should_retry(self, err: BaseException | None) -> bool:
        if not isinstance(err, RegistryFailure) or self.waits.cancelled():
            return False
        with deadline(self.budget):
            return self.retryable(err)

    def should_stop(self, tries: int) -> bool:
        limit = self.policy.max_tries
        if self.waits.cancelled():
            return True
        if limit is not None and tries >= limit:
            self.exhausted = f"after {tries} attempts (PIPELINE_PUSH_ATTEMPTS={limit})"
        elif tries >= _TRY_GUARD:
            self.exhausted = f"after {tries} attempts"
        elif self.budget.left() - self.next_wait < self.policy.min_try:
            took = self.budget.elapsed()
            self.exhausted = (
                f"after {tries} attempts in {took:.0f} s (time limit {self.policy.timeout:g} s)"
            )
        return self.exhausted is not None

    def before_sleep(self, tries: int, err: BaseException | None) -> None:
        made = "; some layers made it" if getattr(err, "progressed", False) else ""
        self.log(
            f"{self.what}: attempt {tries} failed ({err}{made}); retrying in {self.next_wait:.1f}s"
        )


def call(
    operation: Callable[[], T],
    *,
    what: str,
    policy: Policy,
    waits: Waits | None = None,
    reauth: Callable[[], None] | None = None,
    verify: Callable[[], bool] | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> T:
    """Run `operation`, retrying transient failures with exponential backoff and full jitter.

    A rejected or expired credential triggers one `reauth()` and an immediate
    retry. After that an expired token is final, and a rejection is final
    unless `verify()` shows the registry accepts our credentials: dockerd
    sends none when its ping (`GET /v2/`) got a 5xx or a reset instead of the
    401 challenge, and the registry's "authentication required" is then
    transient. Permanent and unknown failures raise at once; after Ctrl-C
    (`waits.cancelled`) nothing is tried again.
    """
    import tenacity

    waits = waits or Waits()
    loop = _Loop(what, policy, waits, reauth, verify, log)

    def outcome(state: tenacity.RetryCallState) -> BaseException | None:
        return state.outcome.exception() if state.outcome else None

    retrying = tenacity.Retrying(
        stop=lambda state: loop.should_stop(state.attempt_number),
        wait=lambda _state: loop.next_wait,
        retry=lambda state: loop.should_retry(outcome(state)),
        sleep=waits.sleep,
        before_sleep=lambda state: loop.before_sleep(state.attempt_number, outcome(state)),
        reraise=True,
    )
    try:
        with deadline(loop.budget):
            result: T = retrying(loop.attempt, operation)
            return result
    except RegistryFailure as err:
        if waits.cancelled():
            raise Interrupted(f"{what}: interrupted") from None
        if loop.exhausted is not None:
            raise PushError(f"{what}: gave up {loop.exhausted}: {err}") from None
        raise
