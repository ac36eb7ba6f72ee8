"""Gate stage: Scanned -> GateResult, one decision for the whole release (pure).

The rules are `pipeline.scan.gate`; today's date is handed in (ignore entries
expire by it). When nothing was scanned (scanning off, a dry run) every image
is "skipped" with the reason, and promote and deploy go on: turning scanning
off is the user's decision, and the report says the release was not gated.
"""

from __future__ import annotations

import datetime as dt

from pipeline.scan.gate import GatePolicy, GateResult, evaluate, skipped
from pipeline.stages.results import Published, Scanned


def run(
    published: Published,
    scanned: Scanned | None,
    policy: GatePolicy,
    today: dt.date,
    *,
    off: str = "scanning is off (scan.enabled: false)",
) -> GateResult:
    """`off` is why an image is skipped when no scan stage ran in this run."""
    reason = off if scanned is None else scanned.skipped
    if scanned is None or reason is not None:
        assert reason is not None
        return GateResult("skipped", tuple(skipped(i.name, reason) for i in published.images))
    return evaluate(scanned.outcomes, policy, today)
