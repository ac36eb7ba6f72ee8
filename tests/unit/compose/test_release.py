"""The scan's own outputs: SARIF next to the config, the findings summary appended for GitHub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import registry as registries
from pipeline.compose import release
from pipeline.config.schema import Config
from pipeline.context import Context
from pipeline.plan import Plan
from pipeline.scan.gate import GatePolicy, evaluate
from pipeline.scan.ports import ImageRef
from pipeline.scan.wait import ScanOutcome
from pipeline.stages.results import RunResult, Scanned
from tests.unit.scan.fakes import DIGEST, T0, finding

ACCOUNT = "123456789012"


def plan(root: Path, scan: dict[str, object]) -> Plan:
    config = Config.model_validate(
        {
            "version": 1,
            "registry": {"account": ACCOUNT, "region": "eu-west-1"},
            "images": [{"name": "app", "repository": "team/app"}],
            "scan": scan,
        }
    )
    ctx = Context(provider="local", event="push", sha="a" * 40, origins=(("sha", "git"),))
    return Plan(config, root, ctx, registries.resolve(config.registry, {}), (), RELEASE)


RELEASE = ("build", "push", "scan", "gate", "promote")


def result(*findings: object) -> RunResult:
    outcome = ScanOutcome("app", ImageRef("team/app", DIGEST), "COMPLETE", findings)  # type: ignore[arg-type]
    scanned = Scanned((outcome,))
    gated = evaluate(scanned.outcomes, GatePolicy(thresholds={"CRITICAL": 0}), T0.date())
    return RunResult(scanned=scanned, gated=gated)


def test_sarif_is_written_relative_to_the_config_file(tmp_path: Path) -> None:
    problems = release.write_outputs(
        plan(tmp_path, {"sarif": "out/scan.sarif"}), result(finding("CVE-1", "CRITICAL"))
    )
    assert problems == []
    document = json.loads((tmp_path / "out" / "scan.sarif").read_text())
    assert document["version"] == "2.1.0"
    assert [r["ruleId"] for r in document["runs"][0]["results"]] == ["CVE-1"]


@pytest.mark.parametrize(
    "run", [RunResult(), RunResult(scanned=Scanned((), skipped="dry run"))], ids=["none", "dry"]
)
def test_nothing_is_written_without_scan_results(tmp_path: Path, run: RunResult) -> None:
    assert release.write_outputs(plan(tmp_path, {"sarif": "scan.sarif"}), run) == []
    assert not (tmp_path / "scan.sarif").exists()


def test_an_unwritable_sarif_is_a_problem_named_by_path(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file, not a folder")
    problems = release.write_outputs(plan(tmp_path, {"sarif": "blocker/scan.sarif"}), result())
    assert len(problems) == 1 and "cannot write the SARIF report" in problems[0]


def test_why_a_run_is_not_scanned(tmp_path: Path) -> None:
    assert "scan.enabled: false" in release.off_reason(plan(tmp_path, {"enabled": False}))
