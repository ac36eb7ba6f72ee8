"""The final job of a fan-out (`--from-report`) in the runner, against fakes.

Nothing is built, pushed or scanned: the reports' Published and gate decision
go to promote and deploy, and one blocked image holds every image's tags and
every deploy target.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import runner
from pipeline.errors import AuthError
from pipeline.report import run_report
from pipeline.scan.gate import GateResult, ImageGate, decide
from pipeline.stages.from_report import Reported
from pipeline.stages.push import Pusher
from pipeline.stages.results import (
    Deployed,
    ImagePromoted,
    ImagePublished,
    Promoted,
    Published,
)
from tests.unit.fakes import FakeBuilder, FakeEngine, FakeRegistry
from tests.unit.test_runner import _Refused, logged, make_plan, services

__all__ = ["logged"]

DIGEST = "sha256:" + "d" * 64


def reported(*decisions: str) -> Reported:
    names = ("app", "web")[: len(decisions)]
    images = tuple(
        ImagePublished(
            n,
            f"reg.example/team/{n}",
            f"team/{n}",
            digest=DIGEST,
            tags=("sha-abc1234",),
            pending_tags=("latest",),
            pushed=True,
            revision="a" * 40,
        )
        for n in names
    )
    gates = tuple(ImageGate(n, d) for n, d in zip(names, decisions, strict=True))  # type: ignore[arg-type]
    return Reported(
        Published(images), GateResult(decide(gates), gates), {n: f"r-{n}.json" for n in names}
    )


class Calls:
    def __init__(self, promote_fails: bool = False) -> None:
        self.calls: list[str] = []
        self.halted: list[str | None] = []
        self.promote_fails = promote_fails

    def promote(self, published: Published, gated: GateResult | None, _p: Pusher) -> Promoted:
        self.calls.append(f"promote {gated.decision if gated else None}")
        error = "registry refused" if self.promote_fails else None
        return Promoted(
            tuple(
                ImagePromoted(i.name, () if error else i.pending_tags, error)
                for i in published.images
            )
        )

    def deploy(
        self, published: Published, gated: GateResult | None, _r: object, halted: str | None
    ) -> Deployed:
        self.calls.append(f"deploy {gated.decision if gated else None}")
        self.halted.append(halted)
        return Deployed()


@pytest.mark.parametrize(
    ("case", "stages", "decisions", "promote_fails", "calls", "finished", "status"),
    [
        (
            "every report passed: promote, then deploy",
            ("promote", "deploy"),
            ("pass", "pass"),
            False,
            ["promote pass", "deploy pass"],
            True,
            "ok",
        ),
        (
            "one image blocked: nothing promoted, deploy told (it skips every target)",
            ("promote", "deploy"),
            ("pass", "block"),
            False,
            ["deploy block"],
            False,
            "blocked",
        ),
        (
            "scanning off: skipped gates let the release go",
            ("promote", "deploy"),
            ("skipped", "skipped"),
            False,
            ["promote skipped", "deploy skipped"],
            True,
            "ok",
        ),
        (
            "a failed promote deploys nothing (deploy told why, skips every target)",
            ("promote", "deploy"),
            ("pass", "pass"),
            True,
            ["promote pass", "deploy pass"],
            False,
            "failed",
        ),
        ("deploy only", ("deploy",), ("pass",), False, ["deploy pass"], True, "ok"),
        ("promote only", ("promote",), ("pass",), False, ["promote pass"], True, "ok"),
    ],
)
def test_the_final_job_promotes_and_deploys_only_what_every_report_passed(
    tmp_path: Path,
    case: str,
    stages: tuple[str, ...],
    decisions: tuple[str, ...],
    promote_fails: bool,
    calls: list[str],
    finished: bool,
    status: str,
) -> None:
    names = ("app", "web")[: len(decisions)]
    plan = replace(make_plan(tmp_path, *names), stages=stages, from_reports=("r.json",))
    registry = FakeRegistry()
    builder = FakeBuilder(FakeEngine(registry))
    svc = services(builder, registry)
    recorder = Calls(promote_fails)
    svc.promote = recorder.promote
    if "deploy" in stages:
        svc.deploy = recorder.deploy
    progress = runner.Progress()

    result = runner.run(
        plan, svc, env={}, jobs=2, dry_run=False, progress=progress, reported=reported(*decisions)
    )

    assert recorder.calls == calls, case
    assert builder.started == [], "a final job builds nothing"
    assert registry.tags == {}, "and pushes nothing"
    assert result.finished is finished
    assert result.built is None and result.scanned is None
    assert [s for s, _t in result.timings] == ["prepare", *[c.split()[0] for c in calls]]
    report = run_report.compose(plan, result, dry_run=False)
    assert report.status == status, case
    assert [i.digest for i in report.images] == [DIGEST] * len(names)
    assert [i.gate for i in report.images] == list(decisions)


def test_the_final_job_says_what_it_took_from_which_report(
    tmp_path: Path, logged: pytest.LogCaptureFixture
) -> None:
    plan = replace(make_plan(tmp_path, "app", "web"), stages=("deploy",), from_reports=("r",))
    registry = FakeRegistry()
    svc = services(FakeBuilder(FakeEngine(registry)), registry)
    recorder = Calls()
    svc.deploy = recorder.deploy

    runner.run(plan, svc, env={}, jobs=1, dry_run=False, reported=reported("pass", "block"))

    assert f"app: reg.example/team/app@{DIGEST}, gate pass (r-app.json)" in logged.text
    assert f"web: reg.example/team/web@{DIGEST}, gate block (r-web.json)" in logged.text
    assert "the gate blocked web in the runners' reports" in logged.text


def test_a_final_job_that_cannot_sign_in_calls_nothing(tmp_path: Path) -> None:
    plan = replace(make_plan(tmp_path, "app"), stages=("promote", "deploy"), from_reports=("r",))
    registry = FakeRegistry()
    svc = services(FakeBuilder(FakeEngine(registry)), registry, _Refused())
    recorder = Calls()
    svc.promote, svc.deploy = recorder.promote, recorder.deploy

    with pytest.raises(AuthError):
        runner.run(plan, svc, env={}, jobs=1, dry_run=False, reported=reported("pass"))

    assert recorder.calls == []


@pytest.mark.parametrize(
    ("decisions", "promote_fails", "halted"),
    [
        (("pass", "pass"), False, None),
        (("pass", "block"), False, "the gate blocked web in the runners' reports"),
        (("pass", "pass"), True, "promote failed: app: registry refused; web: registry refused"),
    ],
    ids=["released", "gate blocked", "promote failed"],
)
def test_the_final_job_tells_deploy_why_the_release_halted(
    tmp_path: Path,
    decisions: tuple[str, ...],
    promote_fails: bool,
    halted: str | None,
    logged: pytest.LogCaptureFixture,
) -> None:
    plan = replace(
        make_plan(tmp_path, "app", "web"), stages=("promote", "deploy"), from_reports=("r",)
    )
    registry = FakeRegistry()
    svc = services(FakeBuilder(FakeEngine(registry)), registry)
    recorder = Calls(promote_fails)
    svc.promote, svc.deploy = recorder.promote, recorder.deploy

    runner.run(plan, svc, env={}, jobs=1, dry_run=False, reported=reported(*decisions))

    assert recorder.halted == [halted]
    errors = [r.getMessage() for r in logged.records if r.levelno == logging.ERROR]
    if halted is None:
        assert errors == []
    else:  # on stderr too, not only in the summary
        assert any(e.startswith(halted) and "nothing deployed" in e for e in errors), errors


def test_the_final_jobs_report_and_summary_show_each_runners_findings(tmp_path: Path) -> None:
    from pipeline.console import summary

    plan = replace(
        make_plan(tmp_path, "app", "web"), stages=("promote", "deploy"), from_reports=("r",)
    )
    registry = FakeRegistry()
    svc = services(FakeBuilder(FakeEngine(registry)), registry)
    recorder = Calls()
    svc.promote, svc.deploy = recorder.promote, recorder.deploy
    web_scan = {
        "status": "COMPLETE",
        "counts": {"HIGH": 2, "LOW": 1},
        "blocking": [],
        "suppressed": [{"id": "CVE-2026-9", "package": "zlib", "reason": "not reachable"}],
    }
    base = reported("pass", "pass")
    carried = Reported(base.published, base.gated, base.sources, {"web": web_scan})

    result = runner.run(plan, svc, env={}, jobs=1, dry_run=False, reported=carried)

    report = run_report.compose(plan, result, dry_run=False)
    assert report.status == "ok"
    assert report.image("app").scan is None  # its report had none
    assert report.image("web").to_json()["scan"] == web_scan
    rows = {row[0]: row for row in summary.summarize(report).images}
    assert rows["web"][3] == "2 high, 1 low"
    assert rows["app"][3] == "-"
