"""A terminal somebody watches: live progress with rich, on stderr.

One line per stage (a spinner, its time, its latest news: the scan wait, the
rollout's counts); under the build, each image's current step of N; under
the push, each image's layers with the bytes the engine reports. Messages
print above the live lines and stay. At the end the live lines stay as the
run's record, and the summary is a table on stdout.

The live view is drawn from rich's refresh thread without the terminal's
lock (that thread holds rich's lock, which printing takes under ours): it
reads snapshots (`list(...)`) of the view, which the GIL keeps whole.
"""

from __future__ import annotations

import logging
from typing import IO, Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from pipeline import log
from pipeline.console import summary
from pipeline.console.state import ImageView, StageView, rollout_counts
from pipeline.console.terminal import Clock, Terminal, printable

_STYLE = {logging.ERROR: "bold red", logging.WARNING: "yellow", logging.DEBUG: "dim"}
#: per-layer lines shown under an image's push (the rest are counted)
MAX_LAYERS = 8


def size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover - the loop returns


class LiveTerminal(Terminal):
    """The rich renderer."""

    def __init__(
        self,
        images: list[tuple[str, str]],
        *,
        verbosity: int,
        out: IO[str],
        err: IO[str],
        clock: Clock,
        **kwargs: Any,
    ) -> None:
        super().__init__(images, verbosity=verbosity, out=out, err=err, clock=clock, **kwargs)
        self.console = Console(file=err, highlight=False)
        self.live: Live | None = None
        #: one spinner per stage: a spinner's frame follows the time since it was made
        self._spinners: dict[str, Spinner] = {}
        if verbosity >= 0:
            self.live = Live(
                console=self.console,
                get_renderable=self.render,
                refresh_per_second=8,
                transient=False,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self.live.start()

    def line(self, text: str, level: int = logging.INFO) -> None:
        self.console.print(Text(printable(text), style=_STYLE.get(level, "")))

    def stop(self) -> None:
        if self.live is not None:
            self.live.refresh()
            self.live.stop()
            self.live = None

    def table(self, result: summary.Summary) -> None:
        isatty = getattr(self.out, "isatty", None)
        if not (isatty and isatty()):
            super().table(result)
            return
        Console(file=self.out, highlight=False).print(rich_summary(result))

    # ------------------------------------------------------------ drawing

    def render(self) -> RenderableType:
        # The news column takes what is left and is cut to one line: a row that wrapped
        # would leave its first lines behind when the live lines are redrawn.
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(width=2, no_wrap=True)
        grid.add_column(min_width=8, no_wrap=True)
        grid.add_column(justify="right", min_width=6, no_wrap=True)
        grid.add_column(overflow="ellipsis", no_wrap=True, ratio=1)
        for stage in list(self.view.stages):
            self._stage_rows(grid, stage)
        return grid

    def _stage_rows(self, grid: Table, stage: StageView) -> None:
        if stage.running:
            symbol: RenderableType = self._spinners.setdefault(
                stage.name, Spinner("dots", style="cyan")
            )
            seconds = max(0.0, self.clock() - stage.started)
        else:
            symbol = Text("✓", style="green") if stage.ok else Text("✗", style="bold red")
            seconds = stage.seconds or 0.0
        note = Text(printable(log.redact(stage.note)), style="dim") if stage.running else Text("")
        counts = rollout_counts(stage.note) if stage.running else None
        if counts:
            note = Text(f"[{counts[0]}/{counts[1]}] ", style="cyan") + note
        grid.add_row(symbol, Text(stage.name, style="bold"), summary.duration(seconds), note)
        if not stage.running:
            return
        for image in list(self.view.images.values()):
            # an early build (stages/early.py) shows its steps while the run still prepares
            if stage.name in ("prepare", "build") and image.step is not None:
                grid.add_row("", f"  {image.name}", "", _step(image))
            elif stage.name == "push" and image.layers:
                self._push_rows(grid, image)

    def _push_rows(self, grid: Table, image: ImageView) -> None:
        done, layers, sent, total = image.push_totals()
        bytes_ = f", {size(sent)} / {size(total)}" if total >= sent > 0 else ""
        grid.add_row("", f"  {image.name}", "", Text(f"{done}/{layers} layers{bytes_}"))
        busy = [(k, v) for k, v in list(image.layers.items()) if not v.done]
        for layer_id, layer in busy[:MAX_LAYERS]:
            current = layer.current or 0
            if layer.total and current <= layer.total:
                filled = round(current / layer.total * 20)
                detail = (
                    f"{'█' * filled}{'░' * (20 - filled)} {size(current)} / {size(layer.total)}"
                )
            else:  # dockerd counts a small layer's bytes past the size it announced
                detail = size(current) if current else ""
            grid.add_row("", "", "", Text(f"{layer_id[:12]}  {layer.status}  {detail}".rstrip()))
        if len(busy) > MAX_LAYERS:
            grid.add_row("", "", "", Text(f"... {len(busy) - MAX_LAYERS} more layers"))


def _step(image: ImageView) -> Text:
    step = image.step
    assert step is not None
    head = Text(f"step {step.number}/{step.of} ", style="cyan") if step.of else Text("")
    return head + Text(printable(step.text))


def rich_summary(result: summary.Summary) -> RenderableType:
    parts: list[RenderableType] = [
        Text(result.title, style="bold green" if result.ok else "bold red")
    ]
    for head, rows in (
        (summary.IMAGE_COLUMNS, result.images),
        (summary.DEPLOY_COLUMNS, result.deployments),
        (summary.STAGE_COLUMNS, result.stages),
    ):
        if not rows:
            continue
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for name in head:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*(escape(log.redact(c)) for c in row))
        parts.append(table)
    parts += [Text(printable(log.redact(note))) for note in result.notes]
    return Group(*parts)
