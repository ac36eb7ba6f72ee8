"""The run report: "ok" only when every asked stage finished; masked when written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import log
from pipeline.report import text
from pipeline.report.run_report import ImageReport, RunReport, write


def report(stages: list[str], *images: ImageReport, finished: bool = True) -> RunReport:
    return RunReport(stages=stages, images=list(images), finished=finished)


def img(**kw: object) -> ImageReport:
    entry = ImageReport("app", "reg/app", ["sha-1"])
    for key, value in kw.items():
        setattr(entry, key, value)
    return entry


@pytest.mark.parametrize(
    ("case", "run", "status"),
    [
        ("built and pushed", report(["build", "push"], img(built=True, pushed=True)), "ok"),
        ("reused", report(["build", "push"], img(reused=True)), "ok"),
        ("build only", report(["build"], img(built=True)), "ok"),
        ("push only", report(["push"], img(pushed=True)), "ok"),
        ("built, not pushed", report(["build", "push"], img(built=True)), "failed"),
        ("nothing done", report(["build"], img()), "failed"),
        (
            "crashed before the end",
            report(["build", "push"], img(built=True, pushed=True), finished=False),
            "failed",
        ),
        ("no images", report(["build"]), "failed"),
        ("an image failed", report(["build"], img(built=True, error="x")), "failed"),
        (
            "a stage nobody can confirm yet",
            report(["build", "push", "scan"], img(built=True, pushed=True)),
            "failed",
        ),
    ],
)
def test_status(case: str, run: RunReport, status: str) -> None:
    assert run.status == status, case


def test_interrupted_or_failed_runs_are_never_ok() -> None:
    run = report(["build"], img(built=True))
    run.interrupted = True
    assert run.status == "failed"
    run = report(["build"], img(built=True))
    run.error = "credentials"
    assert run.status == "failed"


def test_a_dry_run_that_finished_is_ok() -> None:
    run = report(["build", "push"], img())
    run.dry_run = True
    assert run.status == "ok"


def test_the_written_report_and_the_summary_are_masked(tmp_path: Path) -> None:
    log.mask("leaked-token-123")
    run = report(["build"], img(error="build failed:\n#5 0.2 leaked-token-123"))
    run.error = "push x: leaked-token-123"
    write(tmp_path / "r.json", run)
    written = (tmp_path / "r.json").read_text()
    assert "leaked-token-123" not in written
    assert json.loads(written)["images"][0]["error"] == "build failed:\n#5 0.2 ***"
    assert "leaked-token-123" not in text.run_summary(run)


@pytest.mark.parametrize(
    ("status", "run_status"),
    [("completed", "ok"), ("skipped", "ok"), ("rolled_back", "failed"), ("failed", "failed")],
)
def test_a_deployment_that_did_not_complete_fails_the_run(status: str, run_status: str) -> None:
    from pipeline.deployment import Deployment

    run = report(["build", "push", "deploy"], img(built=True, pushed=True))
    run.deployments.append(
        Deployment("ecs", "c/s", "reg/app@sha256:1", "reg/app:0", status, "why")  # type: ignore[arg-type]
    )
    assert run.status == run_status
    (entry,) = run.to_json()["deployments"]
    assert {k: entry[k] for k in ("type", "target", "image", "previous", "status")} == {
        "type": "ecs",
        "target": "c/s",
        "image": "reg/app@sha256:1",
        "previous": "reg/app:0",
        "status": status,
    }
    assert f"deploy ecs c/s: {status.replace('_', ' ')}" in text.run_summary(run)
