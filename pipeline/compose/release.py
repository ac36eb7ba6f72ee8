"""The scan, gate and promote stages' real ports, and the scan's own outputs.

`app` wires these into the runner's `Services`: the ECR scan API (the only
registry with one), the gate's policy and today's date, the push's own
registry client for moving tags. After the run, the SARIF report is written
from the run's values, also when the gate blocked or a scan failed (the
findings table reaches `$GITHUB_STEP_SUMMARY` through the console's one step
summary, pipeline/console/github.py).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import log
from pipeline.plan import Plan
from pipeline.scan import config_check
from pipeline.stages.push import Pusher
from pipeline.stages.results import Promoted, Published, RunResult, Scanned

if TYPE_CHECKING:  # the gate's modules load when a gate runs: a build-and-push run has none
    from pipeline.scan.gate import GateResult

ScanStep = Callable[[Published, dt.datetime], Scanned]
GateStep = Callable[[Published, "Scanned | None"], "GateResult"]
PromoteStep = Callable[[Published, "GateResult | None", Pusher], Promoted]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def off_reason(plan: Plan) -> str:
    """Why a run does not scan (for the gate's "skipped")."""
    if not plan.config.scan.enabled:
        return "scanning is off (scan.enabled: false); this image was released unscanned"
    return f"registry type {plan.registry.type} has no scan API; this image was released unscanned"


def scan_step(plan: Plan, *, dry_run: bool, workers: int) -> ScanStep:
    def step(published: Published, pushed_at: dt.datetime) -> Scanned:
        from pipeline.adapters import ecr_scan
        from pipeline.scan.wait import WaitPolicy
        from pipeline.stages import scan as scan_stage

        say = _info
        if dry_run:
            return scan_stage.not_scanned(published, "dry run: nothing was scanned", say)
        assert plan.registry.region and config_check.applies(plan.config)
        api = ecr_scan.EcrScanApi(ecr_scan.client(plan.registry.region), plan.registry.account)
        return scan_stage.run(
            published,
            api,
            WaitPolicy.from_config(plan.config.scan),
            pushed_at=pushed_at,
            workers=workers,
            clock=time.monotonic,
            sleep=None,  # an interruptible wait (scan.wait.wait_all)
            now=_utcnow,
            jitter=random.uniform,
            log=lambda m: log.LOG.debug("%s", m),
        )

    return step


def gate_step(plan: Plan, today: Callable[[], dt.date]) -> GateStep:
    def step(published: Published, scanned: Scanned | None) -> GateResult:
        from pipeline.scan.gate import GatePolicy
        from pipeline.stages import gate as gate_stage

        policy = GatePolicy.from_config(plan.config.scan)
        result = gate_stage.run(published, scanned, policy, today(), off=off_reason(plan))
        for image in result.images:
            for warning in image.warnings:
                log.LOG.warning("gate %s: %s", image.name, warning)
            say = log.LOG.error if image.decision == "block" else log.LOG.info
            say("gate %s: %s", image.name, image.decision)
        return result

    return step


def promote_step(*, dry_run: bool) -> PromoteStep:
    def step(published: Published, gated: GateResult | None, pusher: Pusher) -> Promoted:
        from pipeline.stages import promote

        return promote.run(published, gated, promote.PusherTags(pusher), dry_run=dry_run, log=_info)

    return step


def _info(message: str) -> None:
    log.LOG.info("%s", message)


def write_outputs(plan: Plan, result: RunResult) -> list[str]:
    """The SARIF report (`scan.sarif`); the problems writing it."""
    scanned, gated = result.scanned, result.gated
    if scanned is None or gated is None or not scanned.outcomes:
        return []
    problems = []
    if plan.config.scan.sarif:
        path = plan.root / plan.config.scan.sarif
        try:
            write_sarif(path, plan, scanned, gated)
        except OSError as err:
            problems.append(f"cannot write the SARIF report {path}: {err.strerror or err}")
    return problems


def write_sarif(path: Path, plan: Plan, scanned: Scanned, gated: GateResult) -> None:
    from pipeline.report.run_report import write_text
    from pipeline.scan import sarif

    images = {i.name: i.image for i in plan.images}
    document = sarif.build(scanned.outcomes, gated, images)
    write_text(path, json.dumps(log.redact_data(document), indent=2) + "\n")
