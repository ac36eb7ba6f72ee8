"""`pipeline run`'s terminal around the run: the summary also for runs that raise."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeline import cli_run, log
from pipeline.errors import StageError
from pipeline.report import run_report
from pipeline.runner import Progress
from tests.unit.test_runner import make_plan


def test_an_interrupted_run_still_gets_its_summary_and_gives_the_log_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = make_plan(tmp_path, "app")
    log.setup(0)
    handlers = list(log.LOG.handlers)

    def run(progress: Progress) -> run_report.RunReport:
        with progress.stage("prepare"):
            log.LOG.info("preparing")
        progress.record(interrupted=True)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cli_run._watched(plan, tmp_path / "pipeline.yaml", False, run)
    out, err = capsys.readouterr()
    assert out.startswith("Run failed (interrupted): build, push\n")
    assert "prepare" in out and "app" in out
    assert "preparing" in err and "prepare: done in" in err
    assert log.LOG.handlers == handlers and log.LOG.level == logging.INFO


def test_a_run_refused_before_any_stage_prints_no_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = make_plan(tmp_path, "app")
    log.setup(0)

    def run(progress: Progress) -> run_report.RunReport:
        raise StageError("cannot start")

    with pytest.raises(StageError):
        cli_run._watched(plan, tmp_path / "pipeline.yaml", False, run)
    assert capsys.readouterr().out == ""
