"""The composition root of `pipeline run`: what is refused before anything runs (exit 2,
no report), and a report that is always written once the run has started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import app, runner
from pipeline.cli import main
from pipeline.errors import Interrupted, UsageError
from pipeline.retry import Kind, RegistryFailure
from pipeline.settings import RunSettings
from pipeline.stages.results import RunResult
from tests.unit.gitrepo import GitRepo

CONFIG = """\
version: 1
registry: {type: generic, url: "127.0.0.1:1/acme", username_env: REG_USER, password_env: REG_PASS}
tags: [{type: sha}]
images:
  - name: app
    repository: app
    build_args: {TOKEN_ARG: "${NPM_TOKEN:-}"}
    secrets: [{id: npm, env: NPM_TOKEN}]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    repo = GitRepo.init(tmp_path / "repo")
    (repo.path / "Dockerfile").write_text("FROM scratch\n")
    (repo.path / "pipeline.yaml").write_text(CONFIG)
    repo.commit()
    return repo.path


ENV = {"REG_USER": "robot", "REG_PASS": "reg-pass-1", "NPM_TOKEN": "npm-tok-12345"}


def plan_of(project: Path, env: dict[str, str]) -> object:
    return app.make_plan(app.Source(project / "pipeline.yaml"), stages=("build", "push"), env=env)


def run(project: Path, env: dict[str, str], report: Path) -> object:
    return app.run(
        plan_of(project, env),  # type: ignore[arg-type]
        settings=RunSettings(),
        dry_run=False,
        report_paths=[report],
        env=env,
    )


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        ("REG_PASS", r"REG_PASS \(named by registry.password_env\) is not set"),
        ("NPM_TOKEN", "environment variable NPM_TOKEN is not set"),
    ],
)
def test_what_can_be_refused_is_refused_before_anything_runs(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, drop: str, message: str
) -> None:
    started: list[int] = []
    monkeypatch.setattr(runner, "run", lambda *a, **k: started.append(1))
    env = {k: v for k, v in ENV.items() if k != drop}
    with pytest.raises(UsageError, match=message):
        run(project, env, tmp_path / "report.json")
    assert started == []
    assert not (tmp_path / "report.json").exists()


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (RegistryFailure("look up x: HTTP 500", Kind.TRANSIENT), "look up x: HTTP 500"),
        (ValueError("a bug"), "internal error: ValueError: a bug"),
        (KeyboardInterrupt(), None),
        (Interrupted("push x: interrupted"), None),
    ],
)
def test_the_report_is_written_and_failed_whatever_ends_the_run(
    project: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: BaseException,
    says: str | None,
) -> None:
    def crash(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(runner, "run", crash)
    path = tmp_path / "out" / "report.json"
    with pytest.raises(type(error)):
        run(project, ENV, path)
    written = json.loads(path.read_text())
    assert written["status"] == "failed"
    assert written["error"] == says
    assert written["interrupted"] is (says is None)


def test_a_run_that_returns_without_doing_its_stages_is_not_ok(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def nothing(plan: object, svc: object, **_kwargs: object) -> None:
        return None

    monkeypatch.setattr(runner, "run", nothing)
    path = tmp_path / "report.json"
    result = run(project, ENV, path)
    assert result.status == "failed"  # type: ignore[attr-defined]
    assert json.loads(path.read_text())["status"] == "failed"


def test_secret_build_args_are_warned_about_with_the_run_warnings(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[str]] = []

    def capture(*_args: object, warnings: list[str], **_kw: object) -> None:
        seen.append(warnings)

    monkeypatch.setattr(runner, "run", capture)
    run(project, ENV, tmp_path / "report.json")
    assert any("build arg TOKEN_ARG: its value comes from NPM_TOKEN" in w for w in seen[0])


def test_an_unwritable_report_fails_a_run_that_would_have_passed(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.errors import StageError

    def passing(*_args: object, progress: runner.Progress, **_kw: object) -> RunResult:
        return progress.record(finished=True)

    monkeypatch.setattr(runner, "run", passing)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StageError, match="cannot write the report"):
        run(project, ENV, blocker / "report.json")


@pytest.mark.parametrize(
    ("name", "value"),
    [("PIPELINE_JOBS", "abc"), ("PIPELINE_PUSH_ATTEMPTS", "ten"), ("PIPELINE_PUSH_TIMEOUT", "x")],
)
def test_bad_settings_stop_pipeline_run_before_the_config_is_read(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
) -> None:
    monkeypatch.setenv(name, value)
    assert main(["run", "-f", str(tmp_path / "no-such.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pipeline: error: {name}=")
    assert "Traceback" not in err
