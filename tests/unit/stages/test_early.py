"""The early build's held output: printed when the build is wanted, dropped when called off."""

from __future__ import annotations

import logging
import threading

import pytest

from pipeline.stages.early import HeldOutput


@pytest.fixture
def logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> pytest.LogCaptureFixture:
    monkeypatch.setattr(logging.getLogger("pipeline"), "propagate", True)
    caplog.set_level(logging.INFO, logger="pipeline")
    return caplog


def test_held_output_is_printed_when_let_go(logged: pytest.LogCaptureFixture) -> None:
    gate = HeldOutput()
    gate.say("one")
    assert "one" not in logged.text
    gate.let_go()
    gate.say("two")
    assert logged.messages == ["one", "two"]
    assert gate.wanted() is True


def test_called_off_drops_lines_and_the_first_decision_stands(
    logged: pytest.LogCaptureFixture,
) -> None:
    gate = HeldOutput()
    gate.say("one")
    gate.call_off()
    gate.let_go()  # the first decision stands
    gate.say("two")
    assert gate.wanted() is False
    assert logged.messages == []


def test_wanted_waits_for_the_decision() -> None:
    gate = HeldOutput()
    answers: list[bool] = []
    waiter = threading.Thread(target=lambda: answers.append(gate.wanted()))
    waiter.start()
    waiter.join(0.05)
    assert answers == []
    gate.let_go()
    waiter.join(1)
    assert answers == [True]
