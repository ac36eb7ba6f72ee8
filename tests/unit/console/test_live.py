"""The live view (rich): what each stage's lines say, drawn with a fake clock."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from rich.console import Console

from pipeline import log
from pipeline.console import events, summary
from pipeline.console.live import LiveTerminal, rich_summary, size
from tests.unit.console.reports import ok_run

REF = "reg.example/team/app:sha-abc1234"


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


Live = tuple[LiveTerminal, Clock, io.StringIO, io.StringIO]


@pytest.fixture
def live() -> Iterator[Live]:
    clock, out, err = Clock(), io.StringIO(), io.StringIO()
    terminal = LiveTerminal([("app", REF)], verbosity=0, out=out, err=err, clock=clock)
    terminal.install()
    yield terminal, clock, out, err
    terminal.close()
    log.setup(0)


def drawn(terminal: LiveTerminal) -> list[str]:
    screen = Console(file=io.StringIO(), width=100, color_system=None)
    with screen.capture() as captured:
        screen.print(terminal.render())
    return [line.rstrip() for line in captured.get().splitlines()]


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (1_500_000, "1.5 MB"), (2e12, "2000.0 GB")],
)
def test_size(n: float, text: str) -> None:
    assert size(n) == text


def test_the_build_shows_each_images_current_step_and_the_time(live: Live) -> None:
    terminal, clock, _, _ = live
    terminal.stage_started("prepare")
    terminal.stage_finished("prepare", 0.3, True)
    terminal.stage_started("build")
    events.say("[app] x", events.BuildOutput("app", "#5 [1/3] FROM local/busybox:1"))
    events.say("[app] x", events.BuildOutput("app", "#6 [2/3] RUN make all"))
    clock.t += 2.5
    lines = drawn(terminal)
    assert lines[0].split() == ["✓", "prepare", "0.3s"]
    assert lines[1].split()[1:3] == ["build", "2.5s"]
    assert lines[2].split() == ["app", "step", "2/3", "RUN", "make", "all"]


def test_the_push_shows_layers_with_their_bytes(live: Live) -> None:
    terminal, _, _, _ = live
    terminal.stage_started("push")
    events.emit(events.LayerProgress(REF, "aaaaaaaaaaaaffff", "Pushing", 1000, 4000))
    events.emit(events.LayerProgress(REF, "bbbbbbbbbbbb", "Pushed", None, None))
    events.emit(events.LayerProgress(REF, "cccccccccccc", "Waiting", None, None))
    text = "\n".join(drawn(terminal))
    assert "app" in text and "1/3 layers, 1.0 kB / 4.0 kB" in text
    assert "aaaaaaaaaaaa  Pushing  █████░░░░░░░░░░░░░░░ 1.0 kB / 4.0 kB" in text
    assert "cccccccccccc  Waiting" in text
    assert "bbbbbbbbbbbb" not in text  # done layers fold into the count
    terminal.stage_finished("push", 1.0, True)
    assert "Pushing" not in "\n".join(drawn(terminal))


def test_the_rollout_wait_shows_the_counts_the_deploy_code_reports(live: Live) -> None:
    terminal, _, _, err = live
    terminal.stage_started("deploy")
    log.LOG.info("prod/web: deployment ecs-svc/1: IN_PROGRESS, 1/3 running, 2 pending, 0 failed")
    line = drawn(terminal)[0]
    assert "[1/3] prod/web: deployment ecs-svc/1: IN_PROGRESS" in line
    assert "1/3 running" in err.getvalue()  # the message also stays above the live lines


def test_a_failed_stage_is_marked_and_its_news_is_gone(live: Live) -> None:
    terminal, _, _, _ = live
    terminal.stage_started("build")
    log.LOG.info("building app")
    terminal.stage_finished("build", 4.0, False)
    assert [line.split() for line in drawn(terminal)] == [["✗", "build", "4.0s"]]


def test_finish_ends_the_live_view_and_prints_the_summary(live: Live) -> None:
    terminal, _, out, _ = live
    terminal.finish(ok_run())
    assert terminal.live is None
    assert out.getvalue().startswith("Run ok: build, push, deploy\n")  # not a terminal: plain


def test_the_rich_summary_holds_every_column() -> None:
    screen = Console(file=io.StringIO(), width=120, color_system=None)
    with screen.capture() as captured:
        screen.print(rich_summary(summary.summarize(ok_run())))
    text = captured.get()
    for column in (*summary.IMAGE_COLUMNS, *summary.STAGE_COLUMNS):
        assert column in text
    assert "sha256:0123456789ab" in text and "1m15s" in text
