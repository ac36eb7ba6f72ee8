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


GENERIC = "version: 1\nregistry: {type: generic, url: registry.example.com/acme}\n"
PUBLIC = "version: 1\nregistry: {type: ecr-public, alias: acme}\nscan: {enabled: false}\n"
UNSCANNED_ECR = (
    'version: 1\nregistry: {type: ecr, account: "123456789012", region: us-east-1}\n'
    "scan: {enabled: false}\n"
)
DEPLOYS = "deploy: [{type: ecs, image: app, cluster: c, service: s}]\n"
NOTHING_LEFT = (
    "pipeline: error: --only/--skip leave no stage to run with this config ({});"
    " select other stages\n"
)
NEEDS_SCANNING = "need{} scanning (scan.enabled on an ECR registry)"
STAGE_NAMES = "stages are build, push, scan, gate, promote, deploy"
NO_ONLY = f"--only names no stage (leave it out to run every stage); {STAGE_NAMES}"


def _run_and_plan(args: list[str]) -> list[list[str]]:
    """`plan` refuses what `run` refuses, with the same line; --from-report is run's alone."""
    run = ["run", "--report", "run.json"]
    return [run] if "--from-report" in args else [run, ["plan"]]


@pytest.mark.parametrize(
    ("config", "args", "stderr"),
    [
        (
            GENERIC,
            ["--only", "gate"],
            NOTHING_LEFT.format("gate " + NEEDS_SCANNING.format("s")),
        ),
        (
            GENERIC + DEPLOYS,
            ["--only", "scan"],
            NOTHING_LEFT.format("scan " + NEEDS_SCANNING.format("s")),
        ),
        (
            PUBLIC,
            ["--only", "scan,gate"],
            NOTHING_LEFT.format("scan and gate " + NEEDS_SCANNING.format("")),
        ),
        (
            UNSCANNED_ECR,
            ["--only", "gate"],
            NOTHING_LEFT.format("gate " + NEEDS_SCANNING.format("s")),
        ),
        (
            GENERIC,
            ["--only", "deploy"],
            NOTHING_LEFT.format("deploy needs a deploy target (deploy:)"),
        ),
        (
            PUBLIC,
            ["--skip", "build,push,promote"],
            NOTHING_LEFT.format(
                "deploy needs a deploy target (deploy:); scan and gate " + NEEDS_SCANNING.format("")
            ),
        ),
        (
            GENERIC,
            ["--skip", "build,push,scan,gate,promote,deploy"],
            "pipeline: error: --only/--skip leave no stage to run (--skip names every stage);"
            " select other stages\n",
        ),
        (
            GENERIC,
            ["--only", "deploy", "--from-report", "r.json"],
            NOTHING_LEFT.format("deploy needs a deploy target (deploy:)"),
        ),
    ],
    ids=[
        "generic --only gate",
        "generic with deploy --only scan",
        "ecr-public unscanned --only scan,gate",
        "ecr unscanned --only gate",
        "no deploy target --only deploy",
        "skip all the config can run",
        "skip every stage",
        "final job with no deploy target",
    ],
)
def test_a_selection_that_leaves_nothing_names_the_stages_asked_for_and_nothing_else(
    config: str, args: list[str], stderr: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pipeline.yaml").write_text(config + SHA_RULES + "images: [{name: app}]\n")

    for command in _run_and_plan(args):
        code = cli.main([*command, *args])

        out, err = capsys.readouterr()
        assert (code, out, err) == (2, "", stderr), command
    assert not (project / "run.json").exists()


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["--only", "tests"], f"unknown stage 'tests'; {STAGE_NAMES}"),
        (["--skip", "promot"], f"unknown stage 'promot'; {STAGE_NAMES} (did you mean 'promote'?)"),
        (["--only", "build,Push"], f"unknown stage 'Push'; {STAGE_NAMES} (did you mean 'push'?)"),
        (["--only", ""], NO_ONLY),
        (["--only", " , "], NO_ONLY),
        (["--skip", ""], f"--skip names no stage (leave it out to skip none); {STAGE_NAMES}"),
        (
            ["--only", "build", "--skip", "build"],
            "--only/--skip leave no stage to run (--skip names every stage --only names);"
            " select other stages",
        ),
        (
            ["--only", "build", "--from-report", "r.json"],
            "--from-report promotes and deploys what other runners published and gated;"
            " it runs no other stage (this run asks for build):"
            " run it with --only promote,deploy (or --only deploy)",
        ),
        (
            ["--only", "promote,deploy"],
            "promote moves the mutable tags onto what the push stage of the same run published;"
            " run it with push (--only push,scan,gate,promote), or give the runners' reports"
            " (--from-report)",
        ),
        (
            ["--only", "deploy"],
            "the deploy stage deploys what the push stage of the same run published;"
            " run it with push (--only push,deploy), or give the runners' reports (--from-report)",
        ),
        (
            ["--only", "gate"],
            "the gate judges the scan results of the same run; run it with scan"
            " (--only push,scan,gate), or set scan.enabled: false to release unscanned",
        ),
        (
            ["--skip", "gate"],
            "promote moves the mutable tags only after the gate of the same run passed;"
            " run it with scan and gate (--only push,scan,gate,promote)",
        ),
    ],
)
def test_every_selection_refused_up_front_exits_2_with_one_clear_line(
    args: list[str], stderr: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pipeline.yaml").write_text(CONFIG + DEPLOYS)

    for command in _run_and_plan(args):
        code = cli.main([*command, *args])

        out, err = capsys.readouterr()
        assert (code, out, err) == (2, "", f"pipeline: error: {stderr}\n"), command
    assert not (project / "run.json").exists()


@pytest.mark.parametrize("option", ["--only", "--skip"])
def test_a_stage_option_without_its_value_is_a_usage_error(
    option: str, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pipeline.yaml").write_text(CONFIG)

    code = cli.main(["run", option])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert f"Option '{option}' requires an argument." in err


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
