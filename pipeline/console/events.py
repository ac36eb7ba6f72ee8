"""What the run tells its terminal besides log messages: builder output and push progress.

They travel through the package's logger (thread-safe, masked, already where
every stage writes), attached to a record under `EVENT`. The run's console
reads them to draw progress; where no console listens, the record is an
ordinary debug line (the builder's output with -v, as before), or nothing
at all when it carries no text (a layer's byte count).

Import-light on purpose: stages and adapters import this, never `rich`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pipeline.log import EVENT, LOG


@dataclass(frozen=True)
class BuildOutput:
    """One line of the builder's own output for one image."""

    image: str
    line: str


@dataclass(frozen=True)
class LayerProgress:
    """One push progress message of the engine for one layer (bytes when it says).

    `ref` is `repository:tag` as pushed; the console knows which image that is.
    """

    ref: str
    layer: str
    status: str
    current: int | None = None
    total: int | None = None


Event = BuildOutput | LayerProgress


def emit(event: Event, text: str | None = None) -> None:
    """Tell the console; `text` is the debug line shown where none listens (-v)."""
    if LOG.isEnabledFor(logging.DEBUG):
        LOG.debug("%s", text or "", extra={EVENT: event})


def say(text: str, event: Event | None = None) -> None:
    """A progress line: an info message, or (with an event) a debug line the console reads."""
    if event is None:
        LOG.info("%s", text)
    else:
        emit(event, text)


def of(record: logging.LogRecord) -> Event | None:
    event = getattr(record, EVENT, None)
    return event if isinstance(event, (BuildOutput, LayerProgress)) else None
