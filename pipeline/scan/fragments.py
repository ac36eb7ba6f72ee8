"""The run report's per-image `scan` and `gate` fields (CONTRACT: JSON outputs).

`{"status", "counts", "blocking"}` as the contract shows, plus what a reader
needs to trust it: whether the scan was enhanced, when it was taken, whether
it predates this run, the error, suppressed findings with their reasons and
the warnings.
"""

from __future__ import annotations

from typing import Any

from pipeline.scan.gate import Decision, ImageGate
from pipeline.scan.wait import ScanOutcome


def scan_fragment(outcome: ScanOutcome, gate: ImageGate) -> dict[str, Any]:
    blocking = list(dict.fromkeys(f.id for f in gate.blocking))
    fragment: dict[str, Any] = {
        "status": outcome.status,
        "counts": gate.counts,
        "blocking": blocking,
        "enhanced": outcome.enhanced,
        "taken_at": outcome.taken_at.isoformat() if outcome.taken_at else None,
        "stale": outcome.stale,
        "suppressed": [
            {"id": s.finding.id, "package": s.finding.package, "reason": s.reason}
            for s in gate.suppressed
        ],
        "warnings": list(dict.fromkeys((*outcome.warnings, *gate.warnings))),
    }
    if outcome.error is not None:
        fragment["error"] = outcome.error
    return fragment


def gate_fragment(gate: ImageGate) -> Decision:
    return gate.decision
