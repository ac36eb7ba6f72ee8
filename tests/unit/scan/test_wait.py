"""The scan wait: every status, scan-on-push grace, StartImageScan once, quota,
enhanced scanning, pagination, backoff and timeouts, all on a fake clock."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.scan.findings import Finding
from pipeline.scan.ports import (
    FindingsPage,
    ImageNotFound,
    ImageRef,
    LimitExceeded,
    ScanAccessDenied,
    ScanNotFound,
    ScanNotStartable,
    ScanSettings,
    Throttled,
    UnsupportedImage,
)
from pipeline.scan.wait import (
    ScanOutcome,
    WaitPolicy,
    WaitRequest,
    wait_all,
    wait_one,
)
from tests.unit.scan.fakes import IMAGE, T0, FakeScanApi, FakeTime, finding, page

MANUAL = ScanSettings(enhanced=False, on_push=False)
ON_PUSH = ScanSettings(enhanced=False, on_push=True)
ENHANCED = ScanSettings(enhanced=True, on_push=True)
POLICY = WaitPolicy(timeout=300.0)


def top(low: float, high: float) -> float:
    """Deterministic jitter: always the longest pause allowed."""
    return high


def run(
    api: FakeScanApi,
    policy: WaitPolicy = POLICY,
    *,
    pushed: bool = True,
    time: FakeTime | None = None,
) -> ScanOutcome:
    time = time or FakeTime()
    return wait_one(
        api,
        WaitRequest("app", IMAGE, pushed=pushed),
        policy,
        clock=time.clock,
        sleep=time.sleep,
        now=time.now,
        jitter=top,
    )


VULN = finding("CVE-2026-1111", "CRITICAL")
DONE_PAGE = page("COMPLETE", [VULN], completed_at=T0 + dt.timedelta(seconds=5))


# ---------------------------------------------------------------- status table


@pytest.mark.parametrize(
    ("script", "status", "error"),
    [
        (["PENDING", "COMPLETE"], "COMPLETE", None),
        (["IN_PROGRESS", "IN_PROGRESS", "COMPLETE"], "COMPLETE", None),
        (["COMPLETE"], "COMPLETE", None),
        (["PENDING", "ACTIVE"], "ACTIVE", None),
        (["IN_PROGRESS", "FAILED"], "FAILED", "scan status FAILED: the scan failed"),
        (["SCAN_ELIGIBILITY_EXPIRED"], "SCAN_ELIGIBILITY_EXPIRED", "SCAN_ELIGIBILITY_EXPIRED"),
        (["FINDINGS_UNAVAILABLE"], "FINDINGS_UNAVAILABLE", "FINDINGS_UNAVAILABLE"),
        (["LIMIT_EXCEEDED"], "LIMIT_EXCEEDED", "scan quota is used up"),
        (["IMAGE_ARCHIVED"], "IMAGE_ARCHIVED", "IMAGE_ARCHIVED: the image is archived"),
        (["IMAGE_SIZE_EXCEEDED"], "IMAGE_SIZE_EXCEEDED", "too large"),
        (["IN_PROGRESS", "QUANTUM_SCANNED"], "QUANTUM_SCANNED", "unknown scan status"),
        (["UNSUPPORTED_IMAGE"], "UNSUPPORTED_IMAGE", "scan.on_unsupported: warn"),
    ],
)
def test_every_status_has_its_action(script: list[str], status: str, error: str | None) -> None:
    api = FakeScanApi([page(s, [VULN] if s in ("COMPLETE", "ACTIVE") else []) for s in script])
    outcome = run(api)
    assert outcome.status == status
    assert outcome.polls == len(script)
    if error is None:
        assert outcome.error is None
        assert outcome.usable
        assert outcome.findings == (VULN,)
    else:
        assert outcome.error is not None
        assert error in outcome.error
        assert not outcome.usable
    assert api.count("start") == 0  # a scan existed all along


def test_a_failed_scan_reports_the_registry_description() -> None:
    api = FakeScanApi([page("FAILED", description="Unable to extract layer")])
    outcome = run(api)
    assert outcome.error is not None
    assert "Unable to extract layer" in outcome.error


def test_unsupported_image_is_released_with_a_warning_when_policy_says_warn() -> None:
    api = FakeScanApi([page("UNSUPPORTED_IMAGE", description="distroless")])
    outcome = run(api, WaitPolicy(on_unsupported="warn"))
    assert outcome.error is None
    assert outcome.status == "UNSUPPORTED_IMAGE"
    assert not outcome.usable
    assert any("on_unsupported: warn" in w and "distroless" in w for w in outcome.warnings)


@pytest.mark.parametrize(("policy", "fails"), [("fail", True), ("warn", False)])
def test_start_refused_as_unsupported_follows_on_unsupported(policy: str, fails: bool) -> None:
    api = FakeScanApi(
        [ScanNotFound("none")], MANUAL, starts=[UnsupportedImage("UnsupportedImageType")]
    )
    outcome = run(api, WaitPolicy(on_unsupported=policy))  # type: ignore[arg-type]
    assert outcome.status == "UNSUPPORTED_IMAGE"
    assert (outcome.error is not None) is fails


def test_the_wait_is_pinned_to_the_pushed_digest() -> None:
    api = FakeScanApi([ScanNotFound("x"), page("IN_PROGRESS"), DONE_PAGE], MANUAL)
    run(api)
    assert api.images
    assert all(image == IMAGE and image.digest.startswith("sha256:") for image in api.images)


# ---------------------------------------------------------------- no scan yet


def test_scan_not_found_is_tolerated_during_the_grace_period_on_push() -> None:
    api = FakeScanApi([ScanNotFound("x")] * 5 + [page("IN_PROGRESS"), DONE_PAGE], ON_PUSH)
    time = FakeTime()
    outcome = run(api, WaitPolicy(grace=30.0), time=time)
    assert outcome.usable
    assert api.count("start") == 0
    assert time.t - 1000.0 < 30.0


def test_past_the_grace_period_a_scan_is_started_exactly_once() -> None:
    api = FakeScanApi([ScanNotFound("x")] * 40 + [page("IN_PROGRESS"), DONE_PAGE], ON_PUSH)
    time = FakeTime()
    outcome = run(api, WaitPolicy(grace=20.0), time=time)
    assert outcome.usable
    assert outcome.started_scan
    assert api.count("start") == 1
    first_start = api.calls.index(("start", None))
    pages_before = sum(1 for c in api.calls[:first_start] if c[0] == "page")
    assert pages_before > 5  # it waited through the grace period first


def test_a_manual_repository_starts_a_scan_at_once_and_only_once() -> None:
    api = FakeScanApi([ScanNotFound("x")] * 4 + [page("IN_PROGRESS"), DONE_PAGE], MANUAL)
    outcome = run(api)
    assert outcome.usable
    assert api.calls[:3] == [("settings", "team/app"), ("page", None), ("start", None)]
    assert api.count("start") == 1


def test_an_image_reused_from_an_earlier_run_starts_a_scan_without_grace() -> None:
    api = FakeScanApi([ScanNotFound("x"), page("IN_PROGRESS"), DONE_PAGE], ON_PUSH)
    outcome = run(api, pushed=False)
    assert outcome.usable
    assert api.calls[:3] == [("settings", "team/app"), ("page", None), ("start", None)]


def test_an_image_reused_from_an_earlier_run_uses_the_scan_its_digest_has() -> None:
    yesterday = T0 - dt.timedelta(days=1)
    api = FakeScanApi([page("COMPLETE", [VULN], completed_at=yesterday)], MANUAL)
    outcome = run(api, pushed=False)
    assert outcome.usable
    assert api.count("start") == 0
    assert outcome.stale
    assert outcome.taken_at == yesterday


def test_a_fresh_scan_is_not_stale() -> None:
    api = FakeScanApi([page("IN_PROGRESS"), DONE_PAGE], ON_PUSH)
    outcome = run(api)
    assert not outcome.stale
    assert outcome.taken_at == DONE_PAGE.completed_at


def test_limit_exceeded_uses_the_last_result_and_says_when_it_was_taken() -> None:
    earlier = T0 - dt.timedelta(hours=3)
    api = FakeScanApi(
        [ScanNotFound("x"), page("COMPLETE", [VULN], completed_at=earlier)],
        MANUAL,
        starts=[LimitExceeded("The scan quota per image has been exceeded.")],
    )
    outcome = run(api)
    assert outcome.usable
    assert outcome.findings == (VULN,)
    assert outcome.stale
    assert api.count("start") == 1
    assert any("quota" in w and earlier.isoformat() in w for w in outcome.warnings)


def test_a_reused_image_whose_last_scan_failed_is_scanned_again_once() -> None:
    api = FakeScanApi([page("FAILED"), page("IN_PROGRESS"), DONE_PAGE], MANUAL)
    outcome = run(api, pushed=False)
    assert outcome.usable
    assert api.count("start") == 1


def test_a_failed_last_scan_with_no_quota_left_fails_naming_both() -> None:
    earlier = T0 - dt.timedelta(hours=2)
    api = FakeScanApi(
        [page("FAILED", completed_at=earlier)], MANUAL, starts=[LimitExceeded("quota")]
    )
    outcome = run(api, pushed=False)
    assert outcome.status == "FAILED"
    assert outcome.error is not None
    assert "quota" in outcome.error
    assert earlier.isoformat() in outcome.error
    assert api.count("start") == 1


def test_a_freshly_pushed_image_whose_scan_failed_is_not_rescanned() -> None:
    api = FakeScanApi([page("FAILED")], ON_PUSH)
    outcome = run(api)
    assert outcome.status == "FAILED"
    assert api.count("start") == 0


def test_a_start_refused_for_another_reason_is_an_error_naming_the_image() -> None:
    api = FakeScanApi([ScanNotFound("x")], MANUAL, starts=[ScanNotStartable("disabled")])
    outcome = run(api)
    assert outcome.status == "ERROR"
    assert outcome.error is not None
    assert str(IMAGE) in outcome.error


# ---------------------------------------------------------------- enhanced


def test_enhanced_scanning_never_starts_a_scan_and_waits_within_the_timeout() -> None:
    api = FakeScanApi([ScanNotFound("x")], ENHANCED)
    time = FakeTime()
    outcome = run(api, WaitPolicy(timeout=120.0), pushed=False, time=time)
    assert api.count("start") == 0
    assert outcome.status == "TIMEOUT"
    assert outcome.error is not None
    assert "120s" in outcome.error
    assert time.t - 1000.0 == pytest.approx(120.0)


def test_enhanced_scanning_waits_for_findings_that_arrive_later() -> None:
    api = FakeScanApi([ScanNotFound("x"), page("ACTIVE", [VULN], enhanced=True)], ENHANCED)
    outcome = run(api)
    assert outcome.usable
    assert outcome.enhanced
    assert api.count("start") == 0


def test_enhanced_complete_without_its_findings_is_polled_again() -> None:
    late = finding("CVE-2026-2222", "HIGH")
    api = FakeScanApi(
        [page("COMPLETE"), page("COMPLETE", [late], enhanced=True)], ENHANCED
    )  # aws/aws-sdk#289: COMPLETE with findings: [] first
    outcome = run(api)
    assert outcome.findings == (late,)
    assert outcome.polls == 2


def test_enhanced_complete_that_stays_empty_is_clean_after_settling() -> None:
    api = FakeScanApi([page("COMPLETE", enhanced=True)], ENHANCED)
    outcome = run(api, WaitPolicy(settle_polls=3))
    assert outcome.usable
    assert outcome.findings == ()
    assert outcome.polls == 3


def test_a_basic_clean_result_is_taken_at_once() -> None:
    api = FakeScanApi([page("COMPLETE")], MANUAL)
    outcome = run(api)
    assert outcome.usable
    assert outcome.polls == 1


def test_counts_without_listed_findings_are_not_taken_for_clean() -> None:
    api = FakeScanApi([page("COMPLETE", counts={"HIGH": 1}), DONE_PAGE], MANUAL)
    outcome = run(api)
    assert outcome.findings == (VULN,)
    assert outcome.polls == 2


# ---------------------------------------------------------------- pagination


def test_every_page_of_findings_is_read() -> None:
    every = [finding(f"CVE-2026-{i:04d}", "LOW") for i in range(250)]
    pages: dict[str, FindingsPage | Exception] = {
        "t1": page("COMPLETE", every[100:200], next_token="t2"),
        "t2": page("COMPLETE", every[200:], next_token=None),
    }
    api = FakeScanApi([page("COMPLETE", every[:100], next_token="t1")], MANUAL, pages=pages)
    outcome = run(api)
    assert len(outcome.findings) == 250
    assert outcome.findings[200].id == "CVE-2026-0200"
    assert [c for c in api.calls if c[0] == "page"] == [
        ("page", None),
        ("page", "t1"),
        ("page", "t2"),
    ]


def test_a_repeated_page_token_does_not_loop_for_ever() -> None:
    pages: dict[str, FindingsPage | Exception] = {"t1": page("COMPLETE", [VULN], next_token="t1")}
    api = FakeScanApi([page("COMPLETE", [VULN], next_token="t1")], MANUAL, pages=pages)
    outcome = run(api)
    assert len(outcome.findings) == 2


# ---------------------------------------------------------------- time


def test_a_scan_that_never_completes_times_out_with_the_elapsed_time() -> None:
    api = FakeScanApi([page("IN_PROGRESS")], MANUAL)
    time = FakeTime()
    outcome = run(api, WaitPolicy(timeout=90.0), time=time)
    assert outcome.status == "TIMEOUT"
    assert outcome.error is not None
    assert "after 90s" in outcome.error
    assert "IN_PROGRESS" in outcome.error
    assert sum(time.sleeps) == pytest.approx(90.0)  # never sleeps past the deadline
    assert outcome.elapsed == pytest.approx(90.0)


class CompletesAt(FakeScanApi):
    """IN_PROGRESS until the fake clock reaches `done_at`, then COMPLETE."""

    def __init__(self, time: FakeTime, done_at: float) -> None:
        super().__init__([page("IN_PROGRESS")], ON_PUSH)
        self.time = time
        self.done_at = done_at
        self.seen_at: float | None = None

    def findings_page(self, image: ImageRef, token: str | None = None) -> FindingsPage:
        if self.time.t >= self.done_at:
            self.seen_at = self.seen_at or self.time.t
            return DONE_PAGE
        return page("IN_PROGRESS")


@pytest.mark.parametrize("after", [0.3, 1.0, 2.5, 7.0, 10.0, 13.3, 29.9, 45.0, 59.0])
def test_a_completed_young_scan_is_noticed_within_two_seconds(after: float) -> None:
    time = FakeTime()
    api = CompletesAt(time, time.t + after)
    outcome = run(api, time=time)
    assert outcome.usable
    assert api.seen_at is not None
    assert api.seen_at - api.done_at <= 2.0


def test_polls_back_off_but_stay_a_few_seconds_apart() -> None:
    time = FakeTime()
    api = FakeScanApi([page("IN_PROGRESS")], MANUAL)
    run(api, WaitPolicy(timeout=300.0), time=time)
    assert time.sleeps[0] == pytest.approx(0.5)
    assert time.sleeps[:4] == sorted(time.sleeps[:4])  # grows
    elapsed = 0.0
    for pause in time.sleeps:
        assert pause <= (2.0 if elapsed < 60.0 else 5.0)
        elapsed += pause
    assert max(time.sleeps) == pytest.approx(5.0)
    assert len(time.sleeps) < 120  # backs off: far fewer than one poll a second


def test_jitter_only_shortens_the_pause() -> None:
    time = FakeTime()
    api = FakeScanApi([page("IN_PROGRESS")] * 30 + [DONE_PAGE], MANUAL)
    wait_one(
        api,
        WaitRequest("app", IMAGE),
        POLICY,
        clock=time.clock,
        sleep=time.sleep,
        now=time.now,
        jitter=lambda low, high: low,
    )
    assert time.sleeps[0] == pytest.approx(0.375)
    assert max(time.sleeps) <= 2.0


def test_throttling_is_retried_with_jitter() -> None:
    time = FakeTime()
    api = FakeScanApi([Throttled("ThrottlingException"), Throttled("slow down"), DONE_PAGE])
    outcome = run(api, time=time)
    assert outcome.usable
    assert time.sleeps[:2] == [1.0, 2.0]  # exponential, before any poll pause


def test_throttling_that_never_ends_stops_at_the_deadline() -> None:
    time = FakeTime()
    api = FakeScanApi([Throttled("ThrottlingException")])
    outcome = run(api, WaitPolicy(timeout=30.0), time=time)
    assert outcome.status == "TIMEOUT"
    assert outcome.error is not None
    assert any("throttling" in w for w in outcome.warnings)
    assert time.t - 1000.0 <= 30.0


def test_throttled_settings_lookups_count_against_the_same_deadline() -> None:
    time = FakeTime()
    api = FakeScanApi([page("IN_PROGRESS")], MANUAL)
    api.settings_error.extend(Throttled("ThrottlingException") for _ in range(3))
    outcome = run(api, WaitPolicy(timeout=30.0), time=time)
    assert time.sleeps[:3] == [1.0, 2.0, 4.0]  # the lookup's retries, then the polls
    assert outcome.status == "TIMEOUT"
    assert outcome.elapsed == pytest.approx(30.0)
    assert time.t - 1000.0 == pytest.approx(30.0)  # not 30 s more after the lookup


def test_the_last_poll_comes_at_the_deadline() -> None:
    time = FakeTime()
    seen_at: list[float] = []

    class Watched(FakeScanApi):
        def findings_page(self, image: ImageRef, token: str | None = None) -> FindingsPage:
            seen_at.append(time.t - 1000.0)
            return super().findings_page(image, token)

    outcome = run(Watched([page("IN_PROGRESS")], MANUAL), WaitPolicy(timeout=10.0), time=time)
    assert outcome.status == "TIMEOUT"
    assert seen_at[0] == 0.0
    assert seen_at[-1] == pytest.approx(10.0)  # a scan finished just then still counts
    assert outcome.polls == len(seen_at)


@pytest.mark.parametrize(
    ("error", "where"),
    [
        (ImageNotFound("ECR DescribeImageScanFindings team/app@sha256:…: image not found"), "page"),
        (ScanAccessDenied("ECR GetRegistryScanningConfiguration: access denied"), "settings"),
    ],
)
def test_api_errors_end_the_wait_with_the_adapters_message(error: Exception, where: str) -> None:
    api = FakeScanApi([error] if where == "page" else [DONE_PAGE])
    if where == "settings":
        api.settings_error.append(error)
    outcome = run(api)
    assert outcome.status == "ERROR"
    assert outcome.error == str(error)


# ---------------------------------------------------------------- many images


def test_images_are_waited_for_in_parallel_and_come_back_in_order() -> None:
    api = FakeScanApi([DONE_PAGE], MANUAL)
    requests = [
        WaitRequest(f"img{i}", ImageRef(f"team/img{i}", "sha256:" + f"{i:02d}" * 32))
        for i in range(6)
    ]
    outcomes = wait_all(api, requests, POLICY, workers=3, sleep=lambda s: None)
    assert [o.name for o in outcomes] == [r.name for r in requests]
    assert all(o.usable for o in outcomes)
    assert {i.repository for i in api.images} == {r.image.repository for r in requests}


def test_an_unexpected_failure_in_one_wait_fails_that_image_only() -> None:
    class Broken(FakeScanApi):
        def findings_page(self, image: ImageRef, token: str | None = None) -> FindingsPage:
            if image.repository == "team/bad":
                raise RuntimeError("boom")
            return super().findings_page(image, token)

    api = Broken([DONE_PAGE], MANUAL)
    requests = [
        WaitRequest("good", ImageRef("team/good", "sha256:" + "1" * 64)),
        WaitRequest("bad", ImageRef("team/bad", "sha256:" + "2" * 64)),
    ]
    good, bad = wait_all(api, requests, POLICY, workers=2, sleep=lambda s: None)
    assert good.usable
    assert bad.status == "ERROR"
    assert bad.error is not None
    assert "boom" in bad.error


def test_outcomes_are_immutable() -> None:
    outcome = run(FakeScanApi([DONE_PAGE]))
    with pytest.raises(AttributeError):
        outcome.status = "COMPLETE"  # type: ignore[misc]
    assert isinstance(outcome.findings, tuple)
    assert all(isinstance(f, Finding) for f in outcome.findings)


def test_the_log_hears_status_changes_starts_and_throttling_once_each() -> None:
    heard: list[str] = []
    time = FakeTime()
    api = FakeScanApi(
        [
            ScanNotFound("x"),
            Throttled("ThrottlingException"),
            page("IN_PROGRESS"),
            page("IN_PROGRESS"),
            DONE_PAGE,
        ],
        MANUAL,
    )
    wait_one(
        api,
        WaitRequest("app", IMAGE),
        POLICY,
        clock=time.clock,
        sleep=time.sleep,
        now=time.now,
        jitter=top,
        log=heard.append,
    )
    assert heard == [
        f"app: scan of {IMAGE}: no scan found",
        f"app: starting a scan of {IMAGE}",
        "app: ThrottlingException; retrying in 1.0s",
        f"app: scan of {IMAGE}: IN_PROGRESS",
        f"app: scan of {IMAGE}: COMPLETE",
    ]


@pytest.mark.parametrize(
    ("pushed_at", "completed_at", "stale"),
    [
        (T0 - dt.timedelta(seconds=30), T0 - dt.timedelta(seconds=10), False),  # scanned on push
        (T0 - dt.timedelta(seconds=30), T0 - dt.timedelta(days=2), True),  # an older scan
        (None, T0 - dt.timedelta(seconds=10), True),  # before the wait, push time unknown
        (None, T0 + dt.timedelta(seconds=1), False),
    ],
)
def test_a_result_is_stale_when_it_predates_the_push(
    pushed_at: dt.datetime | None, completed_at: dt.datetime, stale: bool
) -> None:
    time = FakeTime()
    api = FakeScanApi([page("COMPLETE", [VULN], completed_at=completed_at)], ON_PUSH)
    outcome = wait_one(
        api,
        WaitRequest("app", IMAGE, pushed_at=pushed_at),
        POLICY,
        clock=time.clock,
        sleep=time.sleep,
        now=time.now,
        jitter=top,
    )
    assert outcome.stale is stale


def test_a_naive_completion_time_is_read_as_utc() -> None:
    naive = (T0 - dt.timedelta(days=1)).replace(tzinfo=None)
    outcome = run(FakeScanApi([page("COMPLETE", [VULN], completed_at=naive)], MANUAL))
    assert outcome.stale
    assert outcome.taken_at == T0 - dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("scan", "timeout", "grace", "on_unsupported"),
    [
        ({}, 600.0, 60.0, "fail"),
        ({"timeout": "30s", "on_unsupported": "WARN"}, 30.0, 30.0, "warn"),
        ({"timeout": "15m"}, 900.0, 60.0, "fail"),
    ],
)
def test_the_wait_policy_comes_from_the_config(
    scan: dict[str, str], timeout: float, grace: float, on_unsupported: str
) -> None:
    from pipeline.config.schema import Scan

    policy = WaitPolicy.from_config(Scan.model_validate(scan))
    assert (policy.timeout, policy.grace, policy.on_unsupported) == (
        timeout,
        grace,
        on_unsupported,
    )


def test_ctrl_c_stops_every_wait_at_once() -> None:
    import _thread
    import threading

    class Interrupting(FakeScanApi):
        def findings_page(self, image: ImageRef, token: str | None = None) -> FindingsPage:
            if self.count("page") == 1:
                _thread.interrupt_main()  # as if Ctrl-C arrived during the wait
            return super().findings_page(image, token)

    api = Interrupting([page("IN_PROGRESS")], MANUAL)
    request = WaitRequest("app", IMAGE)
    with pytest.raises(KeyboardInterrupt):
        wait_all(api, [request], WaitPolicy(timeout=600.0), workers=1)
    for thread in threading.enumerate():
        if thread.name.startswith("pipeline"):
            thread.join(timeout=5.0)
            assert not thread.is_alive(), "a wait kept polling after Ctrl-C"
    assert api.count("page") <= 2
