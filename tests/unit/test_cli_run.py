"""`pipeline run`: the terminal around the run (the summary also for runs that raise), and
`--from-report` refused up front (exit 2, no report written) unless usable."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli, cli_run, log
from pipeline.errors import StageError
from pipeline.report import run_report
from pipeline.runner import Progress
from tests.unit.test_preflight import SHA_RULES, project
from tests.unit.test_runner import make_plan

__all__ = ["project"]

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
CONFIG = (
    'version: 1\nregistry: {type: ecr, account: "123456789012", region: us-east-1}\n'
    + SHA_RULES
    + "images: [{name: app}, {name: web}]\n"
)


def runner_report(root: Path, name: str, **over: Any) -> dict[str, Any]:
    head = (root / ".git" / "HEAD").read_text().split()[-1]
    sha = (root / ".git" / head).read_text().strip() if head.startswith("refs/") else head
    entry = {
        "name": name,
        "image": f"{HOST}/{name}",
        "repository": name,
        "revision": sha,
        "version": None,
        "digest": "sha256:" + "a" * 64,
        "tags": ["sha-1234567"],
        "pending_tags": ["main"],
        "gate": "pass",
        "error": None,
        **over,
    }
    return {"status": "ok", "stages": ["build", "push", "scan", "gate"], "images": [entry]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from-report", "r.json"],
            "pipeline: error: --from-report promotes and deploys what other runners published"
            " and gated; it runs no other stage (this run asks for build,push,scan,gate,promote):"
            " run it with"
            " --only promote,deploy (or --only deploy)",
        ),
        (
            ["--skip", "deploy", "--from-report", "r.json"],
            "(this run asks for build,push,scan,gate,promote)",
        ),
        (
            ["--only", "deploy", "r.json"],
            "pipeline: error: unexpected argument 'r.json': `pipeline run` takes files only"
            " after --from-report",
        ),
        (
            ["--only", "promote,deploy", "--from-report", "missing.json"],
            "missing.json: no such file",
        ),
    ],
)
def test_a_final_job_that_cannot_run_is_refused_before_anything(
    args: list[str], message: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pipeline.yaml").write_text(CONFIG)

    code = cli.main(["run", "--report", "run.json", *args])

    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert message in err
    assert "Traceback" not in err
    assert not (project / "run.json").exists()


def test_every_file_after_the_flag_is_a_report_and_each_problem_is_named(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pipeline.yaml").write_text(CONFIG)
    good = project / "r-app.json"
    good.write_text(json.dumps(runner_report(project, "app")))
    failed = runner_report(project, "web", error="push failed", digest=None)
    failed["status"] = "failed"
    (project / "r-web.json").write_text(json.dumps(failed))

    code = cli.main(
        [
            "run",
            "--only",
            "promote,deploy",
            "--report",
            "run.json",
            "--from-report",
            "r-app.json",
            "r-web.json",
        ]
    )

    err = capsys.readouterr().err
    assert code == 2
    assert "r-web.json: the run that wrote it failed (web failed)" in err
    assert "r-app.json" not in err
    assert not (project / "run.json").exists()


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


def test_a_report_that_cannot_be_written_is_refused_before_anything_runs(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # found after the push, it printed "Run ok" and then failed with exit 1
    (project / "pipeline.yaml").write_text(CONFIG)
    (project / "afile").write_text("not a folder\n")

    code = cli.main(["run", "--report", "afile/run.json"])

    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert "pipeline: error: cannot write the report afile/run.json" in err
    assert "is not a folder" in err
    assert "Traceback" not in err
