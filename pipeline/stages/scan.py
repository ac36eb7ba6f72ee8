"""Scan stage: Published -> Scanned, each image's scan awaited by the digest pushed.

The wait itself (statuses, pagination, StartImageScan, throttling, the
deadline) is `pipeline.scan.wait`; this stage decides which images to wait
for and with what facts: a freshly pushed image is scanned on push (or a
scan is started once the grace period ends), an image reused from an earlier
run (no new push, so no scan-on-push) uses the scan its digest already has,
or starts one. A dry run calls nothing: starting a scan is a mutating call.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable

from pipeline.scan.ports import ImageRef, ScanApi
from pipeline.scan.wait import Clock, Jitter, Log, Now, Sleep, WaitPolicy, WaitRequest, wait_all
from pipeline.stages.results import Published, Scanned


def requests(
    published: Published, pushed_at: dt.datetime | None, registry_id: str | None = None
) -> list[WaitRequest]:
    """One wait per published image, pinned to its digest (images without one are left out)."""
    return [
        WaitRequest(
            image.name,
            ImageRef(image.repository, image.digest, registry_id),
            pushed=image.pushed,
            pushed_at=pushed_at if image.pushed else None,
        )
        for image in published.images
        if image.digest and image.error is None
    ]


def run(
    published: Published,
    api: ScanApi,
    policy: WaitPolicy,
    *,
    pushed_at: dt.datetime | None,
    registry_id: str | None = None,
    workers: int = 4,
    clock: Clock = time.monotonic,
    sleep: Sleep | None = None,
    now: Now = lambda: dt.datetime.now(dt.timezone.utc),
    jitter: Jitter = random.uniform,
    log: Log = lambda _m: None,
) -> Scanned:
    """Every published image's scan result, waited for in parallel; errors are in the outcomes."""
    waits = requests(published, pushed_at, registry_id)
    outcomes = wait_all(
        api,
        waits,
        policy,
        workers=max(1, min(workers, len(waits))),
        clock=clock,
        sleep=sleep,
        now=now,
        jitter=jitter,
        log=log,
    )
    return Scanned(outcomes)


def not_scanned(published: Published, reason: str, log: Callable[[str], None]) -> Scanned:
    """The stage's value when it scans nothing (a dry run): says what it would have waited for."""
    for image in published.images:
        where = image.ref if image.digest else f"{image.image} (digest known after the push)"
        log(f"dry-run: would wait for the scan of {where}")
    return Scanned((), skipped=reason)
