"""`pipeline run --from-report`: refused up front (exit 2, no report written) unless usable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline import cli
from tests.unit.config.test_preflight import SHA_RULES, project

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
        (["--only", "deploy", "--from-report", "missing.json"], "missing.json: no such file"),
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
            "deploy",
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
