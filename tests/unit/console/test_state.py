"""The terminal's view of a run: build steps, push layers, stages, rollout counts (pure)."""

from __future__ import annotations

import pytest

from pipeline.console.events import BuildOutput, LayerProgress
from pipeline.console.state import TAIL, RunView, Step, build_step, rollout_counts

REF = "reg.example/team/app:sha-abc1234"


@pytest.mark.parametrize(
    ("line", "step"),
    [
        ("#6 [2/3] RUN echo hello", Step(2, 3, "RUN echo hello")),
        ("#7 [build 4/7] COPY . /src", Step(4, 7, "COPY . /src")),
        (
            "#5 [stage-1 1/2] FROM docker.io/local/busybox:1",
            Step(1, 2, "FROM docker.io/local/busybox:1"),
        ),
        ("Step 2/5 : RUN make", Step(2, 5, "RUN make")),
        ("#9 exporting to image", Step(0, 0, "exporting the image")),
        ("#1 [internal] load build definition from Dockerfile", None),
        ("#6 0.152 hello", None),
        ("#6 sha256:" + "a" * 64, None),
        (" ---> Running in 0123abcd", None),
    ],
)
def test_build_step_reads_buildkit_and_classic_progress(line: str, step: Step | None) -> None:
    assert build_step(line) == step


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("prod/web: deployment ecs-svc/1: IN_PROGRESS, 1/3 running, 2 pending, 0 failed", (1, 3)),
        (
            'waiting for deployment "web" rollout to finish: 2 out of 4 new replicas have been'
            " updated",
            (2, 4),
        ),
        (
            'waiting for deployment "web" rollout to finish: 1 of 2 updated replicas are available',
            (1, 2),
        ),
        ("building app with buildkit", None),
    ],
)
def test_rollout_counts_come_from_the_deploy_messages(
    text: str, counts: tuple[int, int] | None
) -> None:
    assert rollout_counts(text) == counts


def test_the_current_step_is_the_last_one_started_and_the_tail_keeps_the_last_lines() -> None:
    view = RunView([("app", REF)])
    view.apply(BuildOutput("app", "#5 [1/3] FROM local/busybox:1"))
    view.apply(BuildOutput("app", "#6 [2/3] RUN echo hello"))
    view.apply(BuildOutput("app", "#6 0.1 hello"))
    view.apply(BuildOutput("app", "#6 sha256:" + "b" * 64))  # noise: not in the tail
    for n in range(TAIL + 5):
        view.apply(BuildOutput("app", f"#6 line {n}"))
    image = view.images["app"]
    assert image.step == Step(2, 3, "RUN echo hello")
    assert len(image.tail) == TAIL
    assert image.tail[-1] == f"#6 line {TAIL + 4}"
    assert not any("sha256:" in line for line in image.tail)


def test_events_for_images_the_run_does_not_know_are_ignored() -> None:
    view = RunView([("app", REF)])
    view.apply(BuildOutput("other", "#6 [2/3] RUN x"))
    view.apply(LayerProgress("reg.example/team/other:sha-1", "l1", "Pushing", 1, 2))
    assert view.images["app"].step is None and view.images["app"].layers == {}


@pytest.mark.parametrize(
    ("messages", "totals"),
    [
        ([], (0, 0, 0, 0)),
        ([("l1", "Preparing", None, None), ("l2", "Waiting", None, None)], (0, 2, 0, 0)),
        ([("l1", "Pushing", 500, 2000)], (0, 1, 500, 2000)),
        ([("l1", "Pushing", 500, 2000), ("l1", "Pushed", None, None)], (1, 1, 2000, 2000)),
        (
            [("l1", "Pushing", 10, 100), ("l2", "Layer already exists", None, None)],
            (1, 2, 10, 100),
        ),
        ([("l1", "Mounted from team/base", None, None)], (1, 1, 0, 0)),
    ],
)
def test_push_totals_count_layers_and_the_bytes_the_engine_reported(
    messages: list[tuple[str, str, int | None, int | None]], totals: tuple[int, int, int, int]
) -> None:
    view = RunView([("app", REF)])
    for layer, status, current, total in messages:
        view.apply(LayerProgress(REF, layer, status, current, total))
    assert view.images["app"].push_totals() == totals


def test_stages_record_their_time_and_the_latest_message_while_running() -> None:
    view = RunView([])
    view.stage_started("prepare", 10.0)
    view.message("ignored? no: prepare's note")
    view.stage_finished("prepare", 0.5, True)
    view.message("between stages: nobody's note")
    view.stage_started("deploy", 11.0)
    view.message("prod/web: IN_PROGRESS, 1/2 running\nsecond line")
    assert [(s.name, s.seconds, s.ok) for s in view.stages] == [
        ("prepare", 0.5, True),
        ("deploy", None, None),
    ]
    assert view.current is not None and view.current.name == "deploy"
    assert view.current.note == "prod/web: IN_PROGRESS, 1/2 running"
    assert view.stages[0].note == "ignored? no: prepare's note"
    view.stage_finished("deploy", 2.0, False)
    assert view.current is None and view.stages[1].ok is False


def test_a_stage_that_ends_without_having_started_is_still_recorded() -> None:
    view = RunView([])
    view.stage_finished("build", 1.0, False)
    assert [(s.name, s.ok) for s in view.stages] == [("build", False)]
