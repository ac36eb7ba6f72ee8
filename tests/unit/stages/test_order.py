"""The one table of what each stage takes and gives, as `--only`/`--skip` meet it."""

from __future__ import annotations

import pytest

from pipeline.errors import UsageError
from pipeline.stages import order

ALL = ("build", "push", "scan", "gate", "promote", "deploy")


@pytest.mark.parametrize(
    ("selected", "scanning", "missing"),
    [
        (ALL, True, []),
        (("build", "push", "promote", "deploy"), False, []),
        (("build",), True, []),
        (("push", "deploy"), True, []),
        (("scan", "gate"), True, [("scan", "published")]),
        (("gate",), True, [("gate", "scanned")]),
        (("push", "promote"), True, [("promote", "gated")]),
        (("push", "promote"), False, []),
        (("promote",), False, [("promote", "published")]),
        (("deploy",), True, [("deploy", "published")]),
        (("build", "deploy"), True, [("deploy", "published")]),
    ],
    ids=lambda v: ",".join(map(str, v)) if isinstance(v, tuple) else str(v),
)
def test_each_stage_takes_what_a_stage_before_it_gives(
    selected: tuple[str, ...], scanning: bool, missing: list[tuple[str, str]]
) -> None:
    assert order.missing_inputs(selected, scanning=scanning) == missing


def test_the_reports_give_what_push_and_gate_would_have() -> None:
    given = order.REPORTS_GIVE
    assert order.missing_inputs(("promote", "deploy"), scanning=True, given=given) == []
    assert order.missing_inputs(("deploy",), scanning=True, given=given) == []


@pytest.mark.parametrize(
    ("selected", "fix"),
    [
        (("scan", "gate"), "run it with push (--only push,scan,gate)"),
        (("push", "gate"), "run it with scan (--only push,scan,gate)"),
        (("push", "promote"), "run it with scan and gate (--only push,scan,gate,promote)"),
        (("deploy",), "run it with push (--only push,deploy)"),
    ],
)
def test_a_stage_without_its_input_is_refused_naming_the_fix(
    selected: tuple[str, ...], fix: str
) -> None:
    with pytest.raises(UsageError) as err:
        order.refuse(selected, scanning=True)
    assert fix in str(err.value)


@pytest.mark.parametrize(
    ("stages", "allowed"),
    [
        (("promote", "deploy"), True),
        (("deploy",), True),
        (("promote",), True),
        (ALL, False),
        (("push", "deploy"), False),
        (("gate", "promote", "deploy"), False),
        (("scan", "promote"), False),
    ],
)
def test_only_the_stages_after_the_gate_run_from_reports(
    stages: tuple[str, ...], allowed: bool
) -> None:
    if allowed:
        order.refuse(stages, scanning=True, given=order.REPORTS_GIVE)
        return
    with pytest.raises(UsageError) as err:
        order.refuse(stages, scanning=True, given=order.REPORTS_GIVE)
    assert f"(this run asks for {','.join(stages)})" in str(err.value)
    assert "run it with --only promote,deploy (or --only deploy)" in str(err.value)


def test_the_table_follows_the_run_order_the_cli_accepts() -> None:
    from pipeline.plan import STAGES

    assert tuple(s.name for s in order.STAGES) == ALL == STAGES


@pytest.mark.parametrize(
    ("only", "skip", "stages"),
    [
        (None, None, ALL),
        (["gate"], None, ("gate",)),
        (["deploy", "build"], None, ("build", "deploy")),
        (["build", "build", "push"], None, ("build", "push")),
        (None, ["promote", "deploy"], ("build", "push", "scan", "gate")),
        (["build", "push", "scan"], ["gate"], ("build", "push", "scan")),
        (["build", "push", "deploy"], ["deploy", "push"], ("build",)),
    ],
    ids=lambda v: "-" if v is None else ",".join(v) if isinstance(v, (list, tuple)) else str(v),
)
def test_a_selection_asks_for_the_stages_it_names_in_run_order(
    only: list[str] | None, skip: list[str] | None, stages: tuple[str, ...]
) -> None:
    selection = order.select(only, skip)
    assert selection.stages == stages
    assert selection.only == frozenset(only or ())
    assert selection.skip == frozenset(skip or ())


def test_no_selection_asks_for_every_stage() -> None:
    assert order.Selection().stages == ALL == order.EVERY_STAGE.stages


@pytest.mark.parametrize(
    ("only", "skip", "message"),
    [
        (
            ["tests"],
            None,
            "unknown stage 'tests'; stages are build, push, scan, gate, promote, deploy",
        ),
        (
            None,
            ["promot"],
            "unknown stage 'promot'; stages are build, push, scan, gate, promote, deploy"
            " (did you mean 'promote'?)",
        ),
        (
            [],
            None,
            "--only names no stage (leave it out to run every stage); stages are"
            " build, push, scan, gate, promote, deploy",
        ),
        (
            None,
            [],
            "--skip names no stage (leave it out to skip none); stages are"
            " build, push, scan, gate, promote, deploy",
        ),
        (
            ["build"],
            ["build"],
            "--only/--skip leave no stage to run (--skip names every stage --only names);"
            " select other stages",
        ),
        (
            None,
            list(ALL),
            "--only/--skip leave no stage to run (--skip names every stage); select other stages",
        ),
    ],
    ids=[
        "unknown",
        "misspelt",
        "empty --only",
        "empty --skip",
        "skip what --only names",
        "skip every stage",
    ],
)
def test_a_selection_that_names_no_runnable_stage_is_refused_saying_why(
    only: list[str] | None, skip: list[str] | None, message: str
) -> None:
    with pytest.raises(UsageError) as err:
        order.select(only, skip)
    assert str(err.value) == message
    assert err.value.exit_code == 2
