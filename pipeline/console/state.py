"""What the terminal shows while a run goes on, as plain values (no terminal, no clock).

The renderers feed it the stage observer's calls, the log's messages and the
events of `pipeline.console.events`, and draw it; tests drive it with a fake
clock. Parsing the builder's and the deploy code's words is done here, once:
BuildKit's `#6 [2/3] RUN ...`, the classic builder's `Step 2/3 : RUN ...`, the
ECS and Kubernetes rollout messages with their counts.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from pipeline.console.events import BuildOutput, Event, LayerProgress

#: lines of each image's build output kept for a failed build
TAIL = 30

_BUILDKIT_STEP = re.compile(r"^#\d+ \[(?:[^\]]*?\s)?(\d+)/(\d+)\] (.+)$")
_CLASSIC_STEP = re.compile(r"^Step (\d+)/(\d+) : (.+)$")
#: BuildKit's plain progress names each step's digest on a line of its own: noise in a tail
_DIGEST_LINE = re.compile(r"^#\d+ sha256:[0-9a-f]{64}$")
_EXPORT = re.compile(r"^#\d+ (exporting to image|exporting layers|writing image|naming to)\b")
#: layer states that mean the registry has the layer
_LAYER_DONE = ("Pushed", "Layer already exists", "Mounted from")
#: rollout counts as the deploy code reports them (ECS, then Kubernetes)
_ROLLOUT = (
    re.compile(r"(\d+)/(\d+) running"),
    re.compile(r"(\d+) out of (\d+) new replicas"),
    re.compile(r"(\d+) of (\d+) updated replicas are available"),
)


@dataclass(frozen=True)
class Step:
    number: int
    of: int
    text: str


def build_step(line: str) -> Step | None:
    """The step a builder's output line starts, if it starts one."""
    found = _BUILDKIT_STEP.match(line) or _CLASSIC_STEP.match(line)
    if found:
        return Step(int(found[1]), int(found[2]), found[3].strip())
    if _EXPORT.match(line):
        return Step(0, 0, "exporting the image")
    return None


def rollout_counts(text: str) -> tuple[int, int] | None:
    """(done, wanted) from a rollout message, e.g. `1/2 running` or `1 out of 2 new replicas`."""
    for pattern in _ROLLOUT:
        found = pattern.search(text)
        if found:
            return int(found[1]), int(found[2])
    return None


@dataclass
class Layer:
    status: str
    current: int | None = None
    total: int | None = None

    @property
    def done(self) -> bool:
        return self.status.startswith(_LAYER_DONE)


@dataclass
class ImageView:
    name: str
    step: Step | None = None
    layers: dict[str, Layer] = field(default_factory=dict)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL))

    def push_totals(self) -> tuple[int, int, int, int]:
        """(layers done, layers, bytes sent, bytes to send) as far as the engine said."""
        done = sum(1 for layer in self.layers.values() if layer.done)
        sent = sum(
            (layer.total or 0) if layer.done else (layer.current or 0)
            for layer in self.layers.values()
        )
        size = sum(layer.total or 0 for layer in self.layers.values())
        return done, len(self.layers), sent, size


@dataclass
class StageView:
    name: str
    started: float
    seconds: float | None = None
    ok: bool | None = None
    #: the latest message while the stage ran (the scan wait, the rollout's counts)
    note: str = ""

    @property
    def running(self) -> bool:
        return self.ok is None


class RunView:
    """The run so far: its stages in order, its images, and what each is doing."""

    def __init__(self, images: Sequence[tuple[str, str]]) -> None:
        """`images`: (name, `repository:tag` it is pushed as) for each image of the plan."""
        self.images = {name: ImageView(name) for name, _ in images}
        self._by_ref = {ref: name for name, ref in images}
        self.stages: list[StageView] = []

    @property
    def current(self) -> StageView | None:
        return next((s for s in reversed(self.stages) if s.running), None)

    def stage_started(self, stage: str, now: float) -> None:
        self.stages.append(StageView(stage, now))

    def stage_finished(self, stage: str, seconds: float, ok: bool) -> None:
        view = next((s for s in reversed(self.stages) if s.name == stage and s.running), None)
        if view is None:
            view = StageView(stage, 0.0)
            self.stages.append(view)
        view.seconds, view.ok = seconds, ok

    def message(self, text: str) -> None:
        current = self.current
        if current is not None and text:
            current.note = text.splitlines()[0]

    def apply(self, event: Event) -> None:
        if isinstance(event, BuildOutput):
            image = self.images.get(event.image)
            if image is None:
                return
            if not _DIGEST_LINE.match(event.line):
                image.tail.append(event.line)
            image.step = build_step(event.line) or image.step
        elif isinstance(event, LayerProgress):
            name = self._by_ref.get(event.ref)
            if name is None:
                return
            layer = self.images[name].layers.setdefault(event.layer, Layer(event.status))
            layer.status = event.status
            if event.total is not None:
                layer.total = event.total
            if event.current is not None:
                layer.current = event.current
