"""A proxy hook that makes a share of requests fail, the ways registries fail.

`ReverseProxy(upstream, [Faults(share=0.2, seed=1)])` gives a registry that
resets connections, answers 503 or 429, or stalls, on a seeded random choice
of requests, so retry code can be tested against real sockets. `counts` says
what it did, for assertions.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable

from pipeline.sandbox.verdicts import Request, Reset, Response, Stall, Verdict, error_answer

RESET = "reset"  # RST before the request body is read
RESET_AFTER_BODY = "reset-after-body"  # the upload happened, the answer never comes
UNAVAILABLE = "503"
THROTTLED = "429"
STALL = "stall"
KINDS = (RESET, RESET_AFTER_BODY, UNAVAILABLE, THROTTLED, STALL)


class Faults:
    def __init__(
        self,
        share: float = 0.2,
        kinds: Iterable[str] = KINDS,
        *,
        seed: int | None = None,
        stall_seconds: float = 2.0,
        retry_after: int = 1,
        applies: Callable[[Request], bool] = lambda request: True,
    ) -> None:
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"share must be within 0..1, not {share}")
        self.kinds = tuple(kinds)
        unknown = sorted(set(self.kinds) - set(KINDS))
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds must be some of {', '.join(KINDS)}; got {unknown}")
        self.share = share
        self.stall_seconds = stall_seconds
        self.retry_after = retry_after
        self.applies = applies
        self.counts: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()  # one decision at a time keeps a seed reproducible

    def before(self, request: Request) -> Verdict:
        if not self.applies(request):
            return None
        with self._lock:
            self.counts["requests"] += 1
            if self._random.random() >= self.share:
                return None
            kind = self._random.choice(self.kinds)
            self.counts[kind] += 1
        return self.verdict(kind)

    def verdict(self, kind: str) -> Verdict:
        if kind == RESET:
            return Reset(after_body=False)
        if kind == RESET_AFTER_BODY:
            return Reset(after_body=True)
        if kind == UNAVAILABLE:
            return error_answer(503, "UNAVAILABLE", "service unavailable (injected fault)")
        if kind == THROTTLED:
            return error_answer(
                429,
                "TOOMANYREQUESTS",
                "too many requests (injected fault)",
                (("Retry-After", str(self.retry_after)),),
            )
        return Stall(self.stall_seconds)

    @property
    def injected(self) -> int:
        return sum(n for kind, n in self.counts.items() if kind in KINDS)

    def after(self, request: Request, response: Response) -> None:
        pass
