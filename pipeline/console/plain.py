"""Plain lines for logs nobody watches live: piped output, CI, GitHub Actions.

No control character ever reaches them (no colour, no carriage return), so a
log file or a CI page shows exactly what was written. Outside GitHub every
line starts with its UTC time; GitHub stamps each line itself, and folds each
stage in `::group::` / `::endgroup::`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from pipeline.console import github
from pipeline.console.summary import duration
from pipeline.console.terminal import Clock, Terminal, printable

if TYPE_CHECKING:
    from pipeline.report.run_report import RunReport

Now = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Plain(Terminal):
    """One timestamped line per stage start and end, and per message."""

    def __init__(
        self,
        images: list[tuple[str, str]],
        *,
        verbosity: int,
        out: IO[str],
        err: IO[str],
        clock: Clock,
        now: Now = _utcnow,
        **kwargs: Any,
    ) -> None:
        super().__init__(images, verbosity=verbosity, out=out, err=err, clock=clock, **kwargs)
        self.now = now

    def stamp(self) -> str:
        return self.now().astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ ")

    def write(self, text: str) -> None:
        for line in printable(text).split("\n"):
            self.err.write(f"{self.stamp()}{line}\n")
        self.err.flush()

    def line(self, text: str, level: int = logging.INFO) -> None:
        self.write(text)

    def started(self, stage: str) -> None:
        if self.verbosity >= 0:
            self.line(f"{stage}: started")

    def finished(self, stage: str, seconds: float, ok: bool) -> None:
        if self.verbosity >= 0:
            self.line(f"{stage}: {'done' if ok else 'FAILED'} in {duration(seconds)}")


class GitHub(Plain):
    """Plain lines in `::group::STAGE` folds, and the run's problems as annotations.

    A group opens with its first line, not when its stage starts: the run's
    credentials are announced (`::add-mask::`) before anything else is printed.
    """

    #: the stage whose group opens with the next line
    _pending: str | None = None
    _open = False

    def stamp(self) -> str:
        return ""

    def line(self, text: str, level: int = logging.INFO) -> None:
        if self._pending is not None:
            self.err.write(f"::group::{github.escape_data(self._pending)}\n")
            self._pending, self._open = None, True
        self.write(text)

    def started(self, stage: str) -> None:
        self._close()
        if self.verbosity >= 0:
            self._pending = stage

    def finished(self, stage: str, seconds: float, ok: bool) -> None:
        super().finished(stage, seconds, ok)
        self._close()

    def stop(self) -> None:
        self._close()

    def annotate(self, report: RunReport) -> None:
        for command in github.gate_blocks(report, self.config_file, self.env):
            self.err.write(command + "\n")
        self.err.flush()

    def _close(self) -> None:
        self._pending = None
        if self._open:
            self.err.write("::endgroup::\n")
            self.err.flush()
            self._open = False
