"""Plain lines (piped, CI) and GitHub's folds, driven as a run drives them, with fake clocks."""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import log
from pipeline.console import events
from pipeline.console.plain import GitHub, Plain
from tests.unit.console.reports import Blocked, ok_run, pushed

REF = "reg.example/team/app:sha-abc1234"
NOW = dt.datetime(2026, 11, 27, 22, 0, 5, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def make(
    kind: type[Plain], verbosity: int = 0, **kw: object
) -> tuple[Plain, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    terminal = kind(
        [("app", REF)],
        verbosity=verbosity,
        out=out,
        err=err,
        clock=Clock(),
        now=lambda: NOW,
        **kw,  # type: ignore[arg-type]
    )
    return terminal, out, err


@pytest.fixture(autouse=True)
def _restore_log() -> Iterator[None]:
    yield
    log.forget_all()
    log.setup(0)


def drive(terminal: Plain) -> None:
    """A short run: prepare, a build with output, a push with progress; then the summary."""
    terminal.install()
    try:
        terminal.stage_started("prepare")
        terminal.stage_finished("prepare", 0.2, True)
        terminal.stage_started("build")
        log.LOG.info("building app with buildkit")
        events.say("[app] #6 [2/3] RUN echo hi", events.BuildOutput("app", "#6 [2/3] RUN echo hi"))
        log.LOG.warning("cache.to registry needs buildx")
        terminal.stage_finished("build", 3.0, True)
        terminal.stage_started("push")
        events.emit(events.LayerProgress(REF, "l1", "Pushing", 10, 100))
        events.emit(events.LayerProgress(REF, "l1", "Pushed"), "[app] l1: Pushed")
        log.LOG.error("something went wrong")
        terminal.stage_finished("push", 1.5, False)
        terminal.finish(ok_run())
    finally:
        terminal.close()


@pytest.mark.parametrize(
    ("verbosity", "shown", "hidden"),
    [
        (
            0,
            [
                "prepare: started",
                "build: done in 3.0s",
                "building app with buildkit",
                "warning: cache.to registry",
                "push: FAILED in 1.5s",
                "error: something went wrong",
            ],
            ["RUN echo hi", "l1: Pushed"],
        ),
        (
            1,
            ["[app] #6 [2/3] RUN echo hi", "[app] l1: Pushed", "building app with buildkit"],
            [],
        ),
        (
            -1,
            ["error: something went wrong"],
            ["prepare: started", "building app", "warning:", "RUN echo hi", "l1: Pushed"],
        ),
    ],
)
def test_what_each_verbosity_shows(verbosity: int, shown: list[str], hidden: list[str]) -> None:
    terminal, out, err = make(Plain, verbosity)
    drive(terminal)
    for text in shown:
        assert text in err.getvalue()
    for text in hidden:
        assert text not in err.getvalue()
    assert out.getvalue().startswith("Run ok: build, push, deploy\n")  # the summary, also with -q


def test_every_plain_line_starts_with_its_utc_time_and_holds_no_control_character() -> None:
    terminal, _out, err = make(Plain, 1)
    terminal.install()
    events.say("[app] \x1b[31mred\x1b[0m\tdone", events.BuildOutput("app", "x"))
    events.say("[app] 10%\r[app] 100%\r", events.BuildOutput("app", "x"))
    log.LOG.info("two\nlines\x07")
    terminal.close()
    lines = err.getvalue().splitlines()
    assert lines == [
        "2026-11-27T22:00:05Z [app] red    done",
        "2026-11-27T22:00:05Z [app] 100%",
        "2026-11-27T22:00:05Z two",
        "2026-11-27T22:00:05Z lines",
    ]
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", err.getvalue())


def test_secrets_are_masked_in_lines_and_in_the_tail_of_a_failed_build() -> None:
    log.mask("hunter2-secret")
    terminal, out, err = make(Plain, 0)
    terminal.install()
    terminal.stage_started("build")
    events.say("[app] echo hunter2-secret", events.BuildOutput("app", "echo hunter2-secret"))
    log.LOG.error("failed with hunter2-secret")
    terminal.stage_finished("build", 1.0, False)
    failed = ok_run()
    failed.images[0].built = failed.images[0].pushed = False
    failed.images[0].error = "app: build failed"
    terminal.finish(failed)
    terminal.close()
    assert "hunter2-secret" not in err.getvalue() + out.getvalue()
    assert "app: the builder's last lines:" in err.getvalue()
    assert "  echo ***" in err.getvalue()


def test_the_builders_last_lines_are_not_repeated_with_v() -> None:
    terminal, _out, err = make(Plain, 1)
    terminal.install()
    events.say("[app] step output", events.BuildOutput("app", "step output"))
    failed = ok_run()
    failed.images[0].built = failed.images[0].pushed = False
    failed.images[0].error = "app: build failed"
    terminal.finish(failed)
    terminal.close()
    assert err.getvalue().count("step output") == 1
    assert "last lines" not in err.getvalue()


def test_close_gives_the_log_back() -> None:
    log.setup(0)
    before = list(log.LOG.handlers)
    terminal, _, _ = make(Plain)
    terminal.install()
    assert log.LOG.handlers != before and log.LOG.level == logging.DEBUG
    terminal.close()
    assert log.LOG.handlers == before and log.LOG.level == logging.INFO


# ---------------------------------------------------------------- GitHub


def groups(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("::group::", "::endgroup::"))]


def test_github_folds_each_stage_in_a_group_and_stamps_nothing() -> None:
    terminal, _out, err = make(GitHub, 0)
    drive(terminal)
    assert groups(err.getvalue()) == [
        "::group::prepare",
        "::endgroup::",
        "::group::build",
        "::endgroup::",
        "::group::push",
        "::endgroup::",
    ]
    assert "2026-" not in err.getvalue()
    lines = err.getvalue().splitlines()
    assert lines[lines.index("::group::build") + 1] == "building app with buildkit"


def test_github_announces_masks_before_anything_else(capsys: pytest.CaptureFixture[str]) -> None:
    """The mask goes out (stdout) before the first group opens: a group opens with its first
    line, and the prepare stage prints nothing before its credentials are in."""
    terminal, _out, err = make(GitHub, 0)
    terminal.install()
    terminal.stage_started("prepare")
    assert err.getvalue() == ""  # nothing yet: the group waits for its first line
    import os

    os.environ["GITHUB_ACTIONS"] = "true"
    try:
        log.mask("token-value-1234")
    finally:
        del os.environ["GITHUB_ACTIONS"]
    log.LOG.info("signed in with token-value-1234")
    terminal.stage_finished("prepare", 0.1, True)
    terminal.close()
    assert capsys.readouterr().out == "::add-mask::token-value-1234\n"
    assert err.getvalue().splitlines() == [
        "::group::prepare",
        "signed in with ***",
        "prepare: done in 0.1s",
        "::endgroup::",
    ]


def test_github_with_q_prints_no_groups_only_errors_and_the_summary() -> None:
    terminal, out, err = make(GitHub, -1)
    drive(terminal)
    assert groups(err.getvalue()) == []
    assert err.getvalue().splitlines() == ["error: something went wrong"]
    assert out.getvalue().startswith("Run ok")


def test_github_annotates_a_blocked_gate_at_the_scan_section(tmp_path: Path) -> None:
    config = tmp_path / "pipeline.yaml"
    config.write_text(
        "version: 1\nimages:\n  - name: app\n    repository: team/app\n"
        "scan:\n  thresholds: {critical: 0}\n"
    )
    image = pushed(
        scan={"status": "COMPLETE", "counts": {"CRITICAL": 1}, "blocking": ["CVE-2024-1"]},
        gate="block",
    )
    report = Blocked(stages=["build", "push", "scan", "gate"], images=[image], finished=True)
    terminal, _out, err = make(
        GitHub, 0, config_file=config, env={"GITHUB_WORKSPACE": str(tmp_path)}
    )
    terminal.finish(report)
    assert (
        "::error file=pipeline.yaml,line=6,col=3::image app: the severity gate blocked the"
        " release (1 critical); blocking: CVE-2024-1"
    ) in err.getvalue().splitlines()


def test_plain_output_has_no_annotations(tmp_path: Path) -> None:
    image = pushed(scan={"status": "COMPLETE", "counts": {"HIGH": 1}, "blocking": []}, gate="block")
    report = Blocked(stages=["build"], images=[image], finished=True)
    terminal, out, err = make(Plain, 0, config_file=tmp_path / "missing.yaml")
    terminal.finish(report)
    assert "::error" not in err.getvalue() + out.getvalue()
