"""What every renderer of `pipeline run` shares: the stage observer, the log handler, the end.

A renderer is a `Terminal`: the runner's `Progress` tells it when stages start
and end (`runner.StageObserver`), the package's logger hands it every record
(messages, and the builder's output and push progress as events), and
`finish` prints what the run leaves behind: a failed build's last lines and
the summary table (also with -q). Subclasses only decide how lines look.

Verbosity (-v counts up, -q down): at -1 and below only errors and the
summary; at 0 the stages and messages; from 1 the builder's full output and
each layer's push status too.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pipeline import log
from pipeline.console import events, summary
from pipeline.console.state import RunView

if TYPE_CHECKING:
    from pipeline.report.run_report import RunReport
    from pipeline.stages.results import RunResult

Clock = Callable[[], float]

_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` without terminal escapes or control characters (a tab becomes a space;
    of a line a progress bar rewrote with carriage returns, what was shown last)."""
    text = _ESCAPE.sub("", text)
    lines = [line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n")]
    return _CONTROL.sub("", "\n".join(lines).replace("\t", "    "))


def threshold(verbosity: int) -> int:
    """The least level of a message shown: -q errors only, -v debug detail."""
    if verbosity < 0:
        return logging.ERROR
    return logging.INFO if verbosity == 0 else logging.DEBUG


def prefixed(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.levelno >= logging.ERROR:
        return f"error: {text}"
    if record.levelno >= logging.WARNING:
        return f"warning: {text}"
    return text


class _Handler(logging.Handler):
    def __init__(self, terminal: Terminal) -> None:
        super().__init__(logging.DEBUG)
        self.terminal = terminal
        self.addFilter(log.MaskingFilter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.terminal.record(record)
        except Exception:  # noqa: BLE001 - logging's own convention: never raise from a handler
            self.handleError(record)


class Terminal:
    """The base renderer: keeps the view, filters by verbosity, prints the end."""

    def __init__(
        self,
        images: list[tuple[str, str]],
        *,
        verbosity: int,
        out: IO[str],
        err: IO[str],
        clock: Clock,
        env: Mapping[str, str] | None = None,
        config_file: Path | None = None,
        stages: Sequence[str] | None = None,
    ) -> None:
        self.view = RunView(images)
        self.env: Mapping[str, str] = env if env is not None else {}
        self.config_file = config_file
        #: the stages asked for; None: all
        self.stages = stages
        self.verbosity = verbosity
        self.out = out
        self.err = err
        self.clock = clock
        self.lock = threading.RLock()
        self.outcomes: dict[str, bool] = {}
        self._saved: tuple[list[logging.Handler], int] | None = None

    # ------------------------------------------------------------ installation

    def install(self) -> None:
        """Take over the package's log until `close` (every record, at every level)."""
        self._saved = (list(log.LOG.handlers), log.LOG.level)
        for handler in self._saved[0]:
            log.LOG.removeHandler(handler)
        log.LOG.addHandler(_Handler(self))
        log.LOG.setLevel(logging.DEBUG)

    def close(self) -> None:
        """The log back as it was (the live view, if still on, ends)."""
        self.stop()
        if self._saved is None:
            return
        for handler in list(log.LOG.handlers):
            log.LOG.removeHandler(handler)
        handlers, level = self._saved
        for handler in handlers:
            log.LOG.addHandler(handler)
        log.LOG.setLevel(level)
        self._saved = None

    # ------------------------------------------------------------ the observer

    def stage_started(self, stage: str) -> None:
        if self.stages is not None and not summary.shown(stage, self.stages):
            return
        with self.lock:
            self.view.stage_started(stage, self.clock())
            self.started(stage)

    def stage_finished(self, stage: str, seconds: float, ok: bool) -> None:
        if self.stages is not None and not summary.shown(stage, self.stages):
            return
        with self.lock:
            self.view.stage_finished(stage, seconds, ok)
            self.outcomes[stage] = ok
            self.finished(stage, seconds, ok)

    # ------------------------------------------------------------ the log

    def record(self, record: logging.LogRecord) -> None:
        event = events.of(record)
        with self.lock:
            if event is not None:
                if isinstance(event, events.BuildOutput):  # the builder may print a secret
                    event = events.BuildOutput(event.image, log.redact(event.line))
                self.view.apply(event)  # the live view redraws itself from it
                if self.verbosity >= 1 and record.getMessage():
                    self.line(record.getMessage(), record.levelno)
                return
            if record.levelno >= threshold(self.verbosity):
                self.view.message(record.getMessage())
                self.line(prefixed(record), record.levelno)

    # ------------------------------------------------------------ the end

    def finish(self, report: RunReport, result: RunResult | None = None) -> None:
        """The failed builds' last lines, then the summary table (also with -q)."""
        with self.lock:
            self.stop()
            if self.verbosity < 1:  # with -v the whole output was shown already
                for image in report.images:
                    tail = self.view.images.get(image.name)
                    failed = image.error and not (image.built or image.reused or image.pushed)
                    if failed and tail is not None and tail.tail:
                        self.line(f"{image.name}: the builder's last lines:", logging.ERROR)
                        for line in tail.tail:
                            self.line(f"  {line}", logging.ERROR)
            self.table(summary.summarize(report, self.outcomes))
            self.annotate(report)
        target = self.env.get("GITHUB_STEP_SUMMARY")
        if target:
            from pipeline.console import github

            problem = github.append_step_summary(target, github.step_summary(report, result))
            if problem:
                self.line(f"warning: {problem}", logging.WARNING)

    # ------------------------------------------------------------ for subclasses

    def started(self, stage: str) -> None:
        """A stage started."""

    def finished(self, stage: str, seconds: float, ok: bool) -> None:
        """A stage ended."""

    def line(self, text: str, level: int = logging.INFO) -> None:
        """A line of the log (already masked)."""
        raise NotImplementedError

    def table(self, result: summary.Summary) -> None:
        """The summary, on stdout."""
        self.out.write(printable(log.redact(summary.plain(result))) + "\n")
        self.out.flush()

    def stop(self) -> None:
        """No more progress: the live view (if any) ends."""

    def annotate(self, report: RunReport) -> None:
        """The run's problems where the CI shows them (GitHub's annotations)."""
