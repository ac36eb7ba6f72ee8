"""The scan stage: which images are waited for, pinned how, and what a dry run does."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.scan.ports import ImageRef, ScanSettings
from pipeline.scan.wait import WaitPolicy
from pipeline.stages import scan
from pipeline.stages.results import ImagePublished, Published
from tests.unit.scan.fakes import T0, FakeScanApi, FakeTime, finding, page

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def image(name: str, digest: str | None, **kw: object) -> ImagePublished:
    return ImagePublished(name, f"reg.example/team/{name}", f"team/{name}", digest, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "published", "expected"),
    [
        (
            "a fresh push is pinned to its digest and dated by the push",
            Published((image("app", D1, pushed=True),)),
            [("app", ImageRef("team/app", D1, "123"), True, T0)],
        ),
        (
            "a reused image has no push time: its digest's existing scan is used",
            Published((image("app", D1, reused=True),)),
            [("app", ImageRef("team/app", D1, "123"), False, None)],
        ),
        (
            "images without a digest or with an error are not waited for",
            Published(
                (image("a", None), image("b", D2, error="push failed"), image("c", D1, pushed=True))
            ),
            [("c", ImageRef("team/c", D1, "123"), True, T0)],
        ),
    ],
)
def test_requests(case: str, published: Published, expected: list[tuple[object, ...]]) -> None:
    got = [(r.name, r.image, r.pushed, r.pushed_at) for r in scan.requests(published, T0, "123")]
    assert got == expected, case


def test_every_image_is_waited_for_and_its_findings_come_back_in_order() -> None:
    time = FakeTime()
    api = FakeScanApi(
        [page("COMPLETE", [finding("CVE-1", "CRITICAL")], completed_at=T0)],
        settings_value=ScanSettings(enhanced=False, on_push=True),
    )
    published = Published((image("a", D1, pushed=True), image("b", D2, pushed=True)))
    scanned = scan.run(
        published,
        api,
        WaitPolicy(timeout=30),
        pushed_at=T0 - dt.timedelta(seconds=5),
        clock=time.clock,
        sleep=time.sleep,
        now=time.now,
        jitter=lambda lo, hi: hi,
    )
    assert [o.name for o in scanned.outcomes] == ["a", "b"]
    assert all(o.status == "COMPLETE" and not o.stale for o in scanned.outcomes)
    assert {i.digest for i in api.images} == {D1, D2}
    assert scanned.ok
    assert api.count("start") == 0


def test_a_scan_that_never_completes_is_an_error_in_the_value_not_a_raise() -> None:
    time = FakeTime()
    api = FakeScanApi([page("IN_PROGRESS")])
    scanned = scan.run(
        Published((image("app", D1, pushed=True),)),
        api,
        WaitPolicy(timeout=3),
        pushed_at=T0,
        clock=time.clock,
        sleep=time.sleep,
        now=time.now,
        jitter=lambda lo, hi: hi,
    )
    (outcome,) = scanned.outcomes
    assert outcome.status == "TIMEOUT"
    assert outcome.error is not None and "scan.timeout 3s" in outcome.error
    assert not scanned.ok
    assert time.t - 1000.0 <= 3.0 + 1e-9  # never waited past the deadline


def test_a_dry_run_calls_nothing_and_says_what_it_would_wait_for() -> None:
    said: list[str] = []
    published = Published((image("a", D1, reused=True), image("b", None)))
    scanned = scan.not_scanned(published, "dry run: nothing was scanned", said.append)
    assert scanned.outcomes == ()
    assert scanned.skipped == "dry run: nothing was scanned"
    assert scanned.ok
    assert said == [
        f"dry-run: would wait for the scan of reg.example/team/a@{D1}",
        "dry-run: would wait for the scan of reg.example/team/b (digest known after the push)",
    ]
