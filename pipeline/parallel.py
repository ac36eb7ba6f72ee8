"""Run jobs on a bounded pool, each after the jobs it depends on.

Independent images build (and push) at the same time; an image waits for its
`depends_on` images, and is not started when one of them failed. The main
thread only waits, in short slices, so Ctrl-C reaches it at once.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T | None = None
    error: BaseException | None = None
    #: not started because a dependency failed
    blocked_by: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.blocked_by is None


def run(
    names: Sequence[str],
    deps: Mapping[str, Sequence[str]],
    job: Callable[[str], T],
    *,
    workers: int,
    on_interrupt: Callable[[], None] = lambda: None,
) -> dict[str, Outcome[T]]:
    """Run `job(name)` for every name; dependencies outside `names` are ignored."""
    wanted = set(names)
    pending = {n: [d for d in deps.get(n, ()) if d in wanted] for n in names}
    results: dict[str, Outcome[T]] = {}
    running: dict[cf.Future[T], str] = {}
    pool = cf.ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="pipeline")
    try:
        while pending or running:
            for name in [n for n, ds in pending.items() if all(d in results for d in ds)]:
                failed = next((d for d in pending[name] if not results[d].ok), None)
                del pending[name]
                if failed is not None:
                    results[name] = Outcome(blocked_by=failed)
                else:
                    running[pool.submit(job, name)] = name
            if not running:
                if pending:  # unreachable while cycles are refused at load; never spin
                    raise RuntimeError(f"unresolvable dependencies: {sorted(pending)}")
                continue
            done, _ = cf.wait(list(running), timeout=0.2, return_when=cf.FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                err = future.exception()
                if isinstance(err, KeyboardInterrupt):
                    # an interrupt is the run's, not the job's: stop every job, as on Ctrl-C
                    raise err
                results[name] = Outcome(error=err) if err else Outcome(value=future.result())
    except BaseException:
        on_interrupt()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return {n: results[n] for n in names}
