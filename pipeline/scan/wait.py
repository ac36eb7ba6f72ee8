"""Wait for an image's scan result: the shared poll loop, one status table.

boto3's `image_scan_complete` waiter knows only COMPLETE and FAILED: it polls
ACTIVE, UNSUPPORTED_IMAGE and the other terminal statuses until "Max attempts
exceeded", fails at once on ScanNotFoundException, and takes an enhanced
COMPLETE whose findings have not arrived for a clean result
(reference/scan-gate-and-moto.md, aws/aws-sdk#288 and #289). Here every
status has a deliberate action, the image is pinned by digest, and time,
sleep and jitter are injected. The looking, the deadline and the pauses are
`pipeline.poll`'s; what a status means and how long to pause are decided here.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from pipeline import parallel, poll
from pipeline.config.schema import Scan
from pipeline.scan.findings import Finding
from pipeline.scan.ports import (
    FindingsPage,
    ImageRef,
    LimitExceeded,
    ScanApi,
    ScanError,
    ScanNotFound,
    ScanNotStartable,
    ScanSettings,
    Throttled,
    UnsupportedImage,
)

T = TypeVar("T")
Clock = Callable[[], float]
Sleep = Callable[[float], None]
Now = Callable[[], dt.datetime]
Jitter = Callable[[float, float], float]
Log = Callable[[str], None]

POLLING = frozenset({"PENDING", "IN_PROGRESS"})
DONE = frozenset({"COMPLETE", "ACTIVE"})
UNSUPPORTED = "UNSUPPORTED_IMAGE"
# Terminal statuses with no usable result: the release fails closed on each.
FAILED: dict[str, str] = {
    "FAILED": "the scan failed",
    "SCAN_ELIGIBILITY_EXPIRED": (
        "continuous scanning of this image has lapsed (not pushed recently), so its"
        " findings may be out of date"
    ),
    "FINDINGS_UNAVAILABLE": "the scan's findings are not available",
    "LIMIT_EXCEEDED": "the registry's scan quota is used up",
    "IMAGE_ARCHIVED": "the image is archived and cannot be scanned",
    "IMAGE_SIZE_EXCEEDED": "the image is too large to be scanned",
}
TIMEOUT = "TIMEOUT"
ERROR = "ERROR"


@dataclass(frozen=True)
class WaitRequest:
    name: str
    image: ImageRef
    #: pushed by this run; False for an image reused from an earlier run, which
    #: no scan-on-push will pick up again
    pushed: bool = True
    #: when this run's push of it finished: a scan completed before then is an
    #: earlier scan of the same digest (default: when the wait began)
    pushed_at: dt.datetime | None = None


@dataclass(frozen=True)
class WaitPolicy:
    timeout: float = 600.0
    on_unsupported: Literal["fail", "warn"] = "fail"
    #: how long "no scan yet" is normal for a repository that scans on push
    grace: float = 60.0
    #: an enhanced COMPLETE with no findings and no counts is taken as clean only
    #: after this many polls in a row say so (aws/aws-sdk#289)
    settle_polls: int = 3
    first_poll: float = 0.5
    growth: float = 1.5
    #: while the wait is younger than `young`, polls are at most `young_poll` apart,
    #: so a finished scan is noticed within that; later at most `max_poll`
    young: float = 60.0
    young_poll: float = 2.0
    max_poll: float = 5.0
    throttle_first: float = 1.0
    throttle_max: float = 10.0

    @classmethod
    def from_config(cls, scan: Scan) -> WaitPolicy:
        return cls(
            timeout=scan.timeout,
            on_unsupported=scan.on_unsupported,
            grace=min(cls.grace, scan.timeout),
        )


@dataclass(frozen=True)
class ScanOutcome:
    name: str
    image: ImageRef
    #: the registry's last status, or TIMEOUT / ERROR when it gave none to act on
    status: str
    findings: tuple[Finding, ...] = ()
    enhanced: bool = False
    #: when the scan that produced the findings completed (the registry's clock)
    taken_at: dt.datetime | None = None
    #: the result predates this wait: an earlier scan of the same digest
    stale: bool = False
    error: str | None = None
    warnings: tuple[str, ...] = ()
    started_scan: bool = False
    polls: int = 0
    elapsed: float = 0.0

    @property
    def usable(self) -> bool:
        """Findings the gate can judge (an unsupported image let through has none)."""
        return self.error is None and self.status in DONE


class _Stopped(Exception):
    """The run is being interrupted: stop waiting."""


class _OutOfTime(Exception):
    pass


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class _Waiter:
    """The state of one image's wait; `run` is the loop."""

    def __init__(
        self,
        api: ScanApi,
        request: WaitRequest,
        policy: WaitPolicy,
        clock: Clock,
        sleep: Sleep,
        now: Now,
        jitter: Jitter,
        log: Log,
    ) -> None:
        self.api = api
        self.request = request
        self.policy = policy
        self.sleep = sleep
        self.now = now
        self.jitter = jitter
        self.log = log
        self.started = False
        self.quota_hit = False
        self.polls = 0
        self.empty_done = 0
        self.notes: list[str] = []
        self.last_status = "none yet"
        self.deadline = poll.Deadline(clock, policy.timeout)
        self.wall_start = now()

    # ------------------------------------------------------------------ loop

    def run(self) -> ScanOutcome:
        try:
            settings = self._call(lambda: self.api.settings(self.request.image.repository))
            polled = poll.within(
                self.deadline,
                lambda _deadline: self._poll(settings),
                lambda outcome: outcome is not None,
                sleep=self.sleep,
                interval=self._pause,
            )
            return polled.answer if polled.answer is not None else self._timeout()
        except _OutOfTime:
            return self._timeout()
        except UnsupportedImage as err:
            return self._unsupported(str(err))
        except ScanError as err:
            return self._outcome(ERROR, error=str(err))

    def _poll(self, settings: ScanSettings) -> ScanOutcome | None:
        self.polls += 1
        try:
            page = self._page(None)
        except ScanNotFound:
            self._seen("no scan found")
            self._no_scan(settings)
            return None
        self._seen(page.status)
        return self._on_status(page, settings)

    def _seen(self, status: str) -> None:
        if status != self.last_status:
            self.log(f"{self.request.name}: scan of {self.request.image}: {status}")
        self.last_status = status

    def _page(self, token: str | None) -> FindingsPage:
        return self._call(lambda: self.api.findings_page(self.request.image, token))

    def _pause(self, looks: int) -> float:
        """The pause after the `looks`-th poll (0-based): growing, and capped by the
        wait's age, so a young scan that finished is noticed within `young_poll`."""
        young = self.deadline.elapsed() < self.policy.young
        cap = self.policy.young_poll if young else self.policy.max_poll
        step = min(cap, self.policy.first_poll * self.policy.growth**looks)
        # Jitter only shortens a pause, so the cap stays a promise.
        return self.jitter(0.75 * step, step)

    def _call(self, operation: Callable[[], T]) -> T:
        """Retry throttling with full jitter, inside the same deadline."""
        tries = 0
        while True:
            try:
                return operation()
            except Throttled as err:
                tries += 1
                high = self.policy.throttle_first * 2 ** (tries - 1)
                wait = self.jitter(0.0, min(self.policy.throttle_max, high))
                self.log(f"{self.request.name}: {err}; retrying in {wait:.1f}s")
                if wait >= self.deadline.left():
                    self.notes.append(f"the scan API kept throttling us ({err})")
                    raise _OutOfTime from None
                self.sleep(wait)

    # ------------------------------------------------------------------ statuses

    def _no_scan(self, settings: ScanSettings) -> None:
        """No scan exists for the digest: wait for one, or start one (once)."""
        if settings.enhanced:
            return  # Inspector scans by itself and refuses StartImageScan: only wait
        young = self.deadline.elapsed() < self.policy.grace
        if settings.on_push and self.request.pushed and young:
            return  # scan-on-push has not registered the scan yet
        if not self.started:
            self._start()

    def _start(self) -> None:
        self.started = True
        self.log(f"{self.request.name}: starting a scan of {self.request.image}")
        try:
            self._call(lambda: self.api.start_scan(self.request.image))
        except LimitExceeded:
            # Basic scanning allows one scan per image per day and counts a scan
            # on push: a scan exists or is on its way, so its result is awaited.
            self.quota_hit = True
        except ScanNotStartable as err:
            if isinstance(err, UnsupportedImage):
                raise
            raise ScanError(f"cannot start a scan of {self.request.image}: {err}") from None

    def _on_status(self, page: FindingsPage, settings: ScanSettings) -> ScanOutcome | None:
        status = page.status.upper()
        if status in POLLING:
            return None
        if status in DONE:
            return self._done(page, settings)
        if status == UNSUPPORTED:
            return self._unsupported(page.description)
        if status == "FAILED" and self._rescan(settings):
            return None
        if status in FAILED:
            detail = f": {page.description}" if page.description else ""
            when = f" (scan of {_iso(page.completed_at)})" if page.completed_at else ""
            quota = "; a new scan was refused (daily scan quota)" if self.quota_hit else ""
            return self._outcome(
                status,
                error=f"scan status {status}: {FAILED[status]}{detail}{when}{quota}",
                taken_at=page.completed_at,
            )
        return self._outcome(
            status,
            error=f"unknown scan status {page.status!r}{_detail(page)}; failing closed",
        )

    def _rescan(self, settings: ScanSettings) -> bool:
        """An earlier run's failed basic scan is retried once with a new scan."""
        if settings.enhanced or self.started or self.request.pushed:
            return False
        self._start()
        return not self.quota_hit

    def _done(self, page: FindingsPage, settings: ScanSettings) -> ScanOutcome | None:
        findings = list(page.findings)
        token = page.next_token
        seen: set[str] = set()
        while token and token not in seen:  # a token repeated would loop for ever
            seen.add(token)
            nxt = self._page(token)
            findings.extend(nxt.findings)
            token = nxt.next_token
        has_enhanced = page.has_enhanced or any(f.enhanced for f in findings)
        if not findings and not self._settled(page, settings):
            return None
        self.empty_done = 0
        taken = page.completed_at
        if taken is not None and taken.tzinfo is None:
            taken = taken.replace(tzinfo=dt.timezone.utc)  # the API's clock is UTC
        since = self.request.pushed_at if self.request.pushed else None
        stale = taken is not None and taken < (since or self.wall_start)
        if self.quota_hit:
            self.notes.append(
                "the daily scan quota was used up; the result is the last scan"
                + (f", taken at {_iso(taken)}" if taken else "")
            )
        return self._outcome(
            page.status.upper(),
            findings=tuple(findings),
            enhanced=settings.enhanced or has_enhanced,
            taken_at=taken,
            stale=stale,
        )

    def _settled(self, page: FindingsPage, settings: ScanSettings) -> bool:
        """Is an empty finished result really clean?"""
        if any(page.severity_counts.values()):
            return False  # the registry counts findings it has not listed yet
        if not settings.enhanced:
            return True
        # Inspector can say COMPLETE before its findings arrive (aws/aws-sdk#289).
        self.empty_done += 1
        return self.empty_done >= self.policy.settle_polls

    # ------------------------------------------------------------------ outcomes

    def _unsupported(self, description: str | None) -> ScanOutcome:
        detail = f" ({description})" if description else ""
        text = f"the registry cannot scan {self.request.image}{detail}: UNSUPPORTED_IMAGE"
        if self.policy.on_unsupported == "warn":
            self.notes.append(f"{text}; released unscanned (scan.on_unsupported: warn)")
            return self._outcome(UNSUPPORTED)
        return self._outcome(
            UNSUPPORTED,
            error=f"{text}; set scan.on_unsupported: warn to release such images unscanned",
        )

    def _timeout(self) -> ScanOutcome:
        waited = self.deadline.elapsed()
        quota = "; the daily scan quota was used up" if self.quota_hit else ""
        return self._outcome(
            TIMEOUT,
            error=(
                f"no scan result for {self.request.image} after {waited:.0f}s"
                f" (scan.timeout {self.policy.timeout:.0f}s,"
                f" last status: {self.last_status}){quota}"
            ),
        )

    def _outcome(
        self,
        status: str,
        *,
        findings: tuple[Finding, ...] = (),
        enhanced: bool = False,
        taken_at: dt.datetime | None = None,
        stale: bool = False,
        error: str | None = None,
    ) -> ScanOutcome:
        return ScanOutcome(
            name=self.request.name,
            image=self.request.image,
            status=status,
            findings=findings,
            enhanced=enhanced,
            taken_at=taken_at,
            stale=stale,
            error=error,
            warnings=tuple(self.notes),
            started_scan=self.started,
            polls=self.polls,
            elapsed=self.deadline.elapsed(),
        )


def _iso(when: dt.datetime | None) -> str:
    return when.isoformat() if when else "an unknown time"


def _detail(page: FindingsPage) -> str:
    return f": {page.description}" if page.description else ""


def wait_one(
    api: ScanApi,
    request: WaitRequest,
    policy: WaitPolicy,
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    now: Now = _utcnow,
    jitter: Jitter = random.uniform,
    log: Log = lambda _m: None,
) -> ScanOutcome:
    """Poll one image's scan to a result; errors come back in the outcome, never raised.

    `log` hears of status changes, started scans and throttling (for `-v`).
    """
    return _Waiter(api, request, policy, clock, sleep, now, jitter, log).run()


def wait_all(
    api: ScanApi,
    requests: Sequence[WaitRequest],
    policy: WaitPolicy,
    *,
    workers: int = 4,
    clock: Clock = time.monotonic,
    sleep: Sleep | None = None,
    now: Now = _utcnow,
    jitter: Jitter = random.uniform,
    log: Log = lambda _m: None,
) -> tuple[ScanOutcome, ...]:
    """Wait for many images at once (each with its own deadline); results in request order.

    Without an injected `sleep`, waits sleep on an event that an interrupt
    sets, so Ctrl-C does not leave threads polling until their deadline.
    """
    stop = threading.Event()

    def pause(seconds: float) -> None:
        if sleep is not None:
            sleep(seconds)
        elif stop.wait(seconds):
            raise _Stopped

    def job(key: str) -> ScanOutcome:
        request = requests[int(key)]
        try:
            return wait_one(
                api, request, policy, clock=clock, sleep=pause, now=now, jitter=jitter, log=log
            )
        except _Stopped:
            return ScanOutcome(request.name, request.image, ERROR, error="interrupted")

    keys = [str(i) for i in range(len(requests))]
    results = parallel.run(keys, {}, job, workers=workers, on_interrupt=stop.set)
    outcomes = []
    for key, request in zip(keys, requests, strict=True):
        result = results[key]
        if result.value is not None:
            outcomes.append(result.value)
        else:
            err = result.error
            outcomes.append(
                ScanOutcome(request.name, request.image, ERROR, error=f"waiting failed: {err!r}")
            )
    return tuple(outcomes)
