"""The summary table, from the report: right for runs that passed, failed or stopped."""

from __future__ import annotations

import pytest

from pipeline.console import summary
from pipeline.report.run_report import ImageReport, RunReport
from tests.unit.console.reports import DIGEST, Blocked, deployment, ok_run, pushed


@pytest.mark.parametrize(
    ("digest", "short"),
    [(None, "-"), ("", "-"), (DIGEST, "sha256:0123456789ab"), ("weird", "weird")],
)
def test_short_digest(digest: str | None, short: str) -> None:
    assert summary.short_digest(digest) == short


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.04, "0.0s"), (3.45, "3.5s"), (12.0, "12s"), (75.0, "1m15s"), (3600.0, "60m00s")],
)
def test_duration(seconds: float, text: str) -> None:
    assert summary.duration(seconds) == text


@pytest.mark.parametrize(
    ("scan", "text"),
    [
        (None, "-"),
        ({"status": "COMPLETE", "counts": {}}, "none"),
        (
            {"status": "COMPLETE", "counts": {"HIGH": 2, "CRITICAL": 1, "LOW": 0}},
            "1 critical, 2 high",
        ),
        ({"status": "COMPLETE", "counts": {"MEDIUM": 3, "WEIRD": 1}}, "3 medium, 1 weird"),
        ({"status": "UNSUPPORTED_IMAGE", "counts": {}}, "unsupported_image"),
        ({"status": "FAILED", "counts": None}, "failed"),
        ({"counts": "garbage"}, "-"),
    ],
)
def test_findings_by_severity_worst_first(scan: object, text: str) -> None:
    assert summary.findings(scan) == text


def test_a_run_that_passed() -> None:
    image = pushed(scan={"status": "COMPLETE", "counts": {"HIGH": 1}, "blocking": []}, gate="pass")
    image.pending_tags = ["latest"]
    result = summary.summarize(ok_run(image, deployments=[deployment()]))
    assert result.ok
    assert result.title == "Run ok: build, push, deploy"
    assert result.images == (
        ("app", "sha256:0123456789ab", "sha-abc1234, 1.2.3", "1 high", "pass", "completed"),
    )
    assert result.deployments == (("prod/web", "ecs", "completed"),)
    assert result.stages == (
        ("prepare", "0.2s", "ok"),
        ("build", "3.5s", "ok"),
        ("push", "12s", "ok"),
        ("deploy", "1m15s", "ok"),
        ("total", "1m31s", ""),
    )
    assert result.notes == ("app: not moved (promote stage): latest",)


def test_a_failed_build_has_no_digest_and_says_why() -> None:
    image = ImageReport("app", "reg.example/team/app", ["sha-abc1234"], error="app: build failed")
    run = RunReport(
        stages=["build", "push"], images=[image], timings={"prepare": 0.1, "build": 2.0}
    )
    result = summary.summarize(run, {"prepare": True, "build": False})
    assert not result.ok
    assert result.title == "Run failed: build, push"
    assert result.images[0][:2] == ("app", "-")
    assert ("build", "2.0s", "failed") in result.stages
    assert "app: error: app: build failed" in result.notes


def test_an_interrupted_run_says_so_and_shows_only_the_stages_that_ran() -> None:
    run = RunReport(
        stages=["build", "push"], images=[pushed()], interrupted=True, timings={"prepare": 0.1}
    )
    result = summary.summarize(run)
    assert result.title == "Run failed (interrupted): build, push"
    assert [row[0] for row in result.stages] == ["prepare", "total"]


def test_a_blocked_gate_shows_the_blocking_findings_and_the_status() -> None:
    image = pushed(
        scan={"status": "COMPLETE", "counts": {"CRITICAL": 1}, "blocking": ["CVE-2024-1"]},
        gate="block",
    )
    run = Blocked(stages=["build", "push", "scan", "gate"], images=[image], finished=True)
    result = summary.summarize(run)
    assert result.title.startswith("Run blocked: ")
    assert result.images[0][3:5] == ("1 critical", "block")
    assert "app: blocking findings: CVE-2024-1" in result.notes
    assert not result.ok


def test_deployments_are_matched_to_their_image_and_listed() -> None:
    run = ok_run(
        pushed("api"),
        pushed("web"),
        deployments=[deployment("rolled_back", "reg.example/team/web"), deployment()],
    )
    result = summary.summarize(run)
    assert [row[5] for row in result.images] == ["-", "rolled back"]
    assert ("prod/web", "ecs", "rolled back") in result.deployments


def test_plain_text_aligns_columns_and_holds_no_control_character() -> None:
    text = summary.plain(summary.summarize(ok_run()))
    lines = text.splitlines()
    assert lines[0] == "Run ok: build, push, deploy"
    head = next(line for line in lines if line.startswith("IMAGE"))
    row = next(line for line in lines if line.startswith("app "))
    assert head.index("DIGEST") == row.index("sha256:")
    assert head.index("TAGS") == row.index("sha-abc1234")
    assert not any(ord(c) < 32 for c in text.replace("\n", ""))
    assert all(line == line.rstrip() for line in lines)


def test_a_gate_that_blocked_is_marked_blocked_not_failed_in_the_stage_rows() -> None:
    image = pushed(
        scan={"status": "COMPLETE", "counts": {"CRITICAL": 1}, "blocking": ["CVE-2024-1"]},
        gate="block",
    )
    run = Blocked(
        stages=["build", "push", "scan", "gate"],
        images=[image],
        finished=True,
        timings={"prepare": 0.1, "build": 1.0, "push": 2.0, "scan": 3.0, "gate": 0.01},
    )
    outcomes = {"prepare": True, "build": True, "push": True, "scan": True, "gate": False}
    result = summary.summarize(run, outcomes)
    assert [row[2] for row in result.stages] == ["ok", "ok", "ok", "ok", "blocked", ""]


def test_a_gate_that_failed_without_a_block_stays_failed() -> None:
    image = pushed(scan={"status": "FAILED", "counts": None, "blocking": []}, gate="skipped")
    run = RunReport(stages=["scan", "gate"], images=[image], timings={"scan": 1.0, "gate": 0.01})
    result = summary.summarize(run, {"scan": False, "gate": False})
    assert ("gate", "0.0s", "failed") in result.stages
