"""Early build: start building while the registry is asked whether the image is published.

On a first run nothing is published, and the registry's answer (credentials,
repositories, a manifest read) takes about as long as a small build: waiting
for it would make a first run slower than the raw commands. So the build
starts as soon as its inputs are known, its output is held, and when the
answer comes the build is either let go on (its held lines printed) or called
off (stopped, its lines dropped, anything it left discarded). The answer
includes the layer cache's candidates: a build the registry gives one is
called off too, and the runner builds it again with them.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable, Collection, Mapping, Sequence

from pipeline import log, parallel
from pipeline.adapters.ports import Builder, BuildRequest, BuildResult
from pipeline.console import events
from pipeline.plan import ImagePlan


class HeldOutput:
    """Whether one early build is wanted, and its output held until that is known.

    `let_go()` prints the held lines and lets the build go on; `call_off()`
    drops them (the caller stops the build). The first decision stands.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._decided = threading.Event()
        self._wanted = False
        self._held: list[tuple[str, events.Event | None]] = []

    def say(self, text: str, event: events.Event | None = None) -> None:
        with self._lock:
            if not self._decided.is_set():
                self._held.append((text, event))
            elif self._wanted:
                events.say(text, event)

    def let_go(self) -> None:
        self._decide(True)

    def call_off(self) -> None:
        self._decide(False)

    def _decide(self, wanted: bool) -> None:
        with self._lock:
            if self._decided.is_set():
                return
            self._wanted = wanted
            for text, event in self._held if wanted else ():
                events.say(text, event)
            self._held.clear()
            self._decided.set()

    @property
    def decided(self) -> bool:
        return self._decided.is_set()

    def wanted(self) -> bool:
        self._decided.wait()
        return self._wanted


Outcomes = dict[str, parallel.Outcome[BuildResult | None]]
#: the build stage's entry point, as the early build calls it
BuildAll = Callable[..., Outcomes]


class EarlyBuild:
    """Every image's build, started before the run knows which are wanted."""

    def __init__(
        self,
        pool: cf.ThreadPoolExecutor,
        build_all: BuildAll,
        images: Sequence[ImagePlan],
        requests: Mapping[str, BuildRequest],
        builder: Builder,
        *,
        jobs: int,
        on_interrupt: Callable[[], None],
    ) -> None:
        self.builder = builder
        #: what each build was started with (the run compares it with what it wants)
        self.requests = dict(requests)
        self.held = {i.name: HeldOutput() for i in images}
        self._future: cf.Future[Outcomes] = pool.submit(
            build_all,
            images,
            requests,
            builder,
            workers=jobs,
            on_interrupt=on_interrupt,
            holds=self.held,
        )

    def decide(self, published: Collection[str], *, failed: bool) -> None:
        """Let the wanted builds go on; call off the others (published, or the run failed)."""
        wanted = [] if failed else [n for n in self.held if n not in published]
        if wanted:
            log.LOG.info("builder: %s", self.builder.description)
        for name, held in self.held.items():
            if name in wanted:
                held.let_go()
            else:
                held.call_off()
                self.builder.stop(name)

    def outcomes(self) -> Outcomes:
        """Wait for the builds (called-off ones end here too, having tidied up)."""
        return self._future.result()
