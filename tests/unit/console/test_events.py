"""Events travel on the package's logger: read by the run's terminal, a debug line elsewhere."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from pipeline import log
from pipeline.console import events


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    yield
    log.setup(0)


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_without_debug_an_event_costs_nothing_and_reaches_nobody() -> None:
    log.setup(0)
    collect = Collect()
    log.LOG.addHandler(collect)
    events.emit(events.LayerProgress("r:t", "a", "Pushing", 1, 2))
    events.say("[app] #1 step", events.BuildOutput("app", "#1 step"))
    events.say("building app")
    assert [r.getMessage() for r in collect.records] == ["building app"]


def test_at_debug_events_ride_on_their_record() -> None:
    log.setup(1)
    collect = Collect()
    log.LOG.addHandler(collect)
    event = events.BuildOutput("app", "#1 step")
    events.say("[app] #1 step", event)
    events.say("building app")
    first, second = collect.records
    assert (first.levelno, first.getMessage(), events.of(first)) == (
        logging.DEBUG,
        "[app] #1 step",
        event,
    )
    assert (second.levelno, events.of(second)) == (logging.INFO, None)


def test_the_plain_log_prints_an_events_text_and_drops_one_without_text() -> None:
    stream = io.StringIO()
    log.setup(1, stream)
    events.emit(events.LayerProgress("r:t", "a", "Pushing", 1, 2))
    events.emit(events.LayerProgress("r:t", "a", "Pushed"), "[app] a: Pushed")
    assert stream.getvalue() == "[app] a: Pushed\n"
