"""A small release of two images to render: backend blocked, frontend passing."""

from __future__ import annotations

import datetime as dt

from pipeline.scan.findings import Finding, Fix
from pipeline.scan.gate import GatePolicy, GateResult, IgnoreRule, evaluate
from pipeline.scan.ports import ImageRef
from pipeline.scan.wait import ScanOutcome

TODAY = dt.date(2027, 1, 20)
TAKEN = dt.datetime(2027, 1, 20, 9, 30, tzinfo=dt.timezone.utc)
BACKEND = ImageRef("myapp/backend", "sha256:" + "1" * 64)
FRONTEND = ImageRef("myapp/frontend", "sha256:" + "2" * 64)

CRITICAL = Finding(
    "CVE-2026-0001",
    "CRITICAL",
    package="openssl",
    version="3.0.11",
    uri="https://security-tracker.debian.org/tracker/CVE-2026-0001",
    description="Remote code | execution",
)
ACCEPTED = Finding("CVE-2026-0002", "HIGH", package="zlib", version="1.2.13")
LOW = Finding("CVE-2026-0003", "LOW", package="tar", version="1.34")
FIXABLE = Finding(
    "CVE-2026-0004",
    "MEDIUM",
    package="urllib3",
    version="1.26.5",
    fixed_in="1.26.17",
    fix=Fix.YES,
    title="CVE-2026-0004 - urllib3",
    enhanced=True,
)
UNTRIAGED = Finding("CVE-2026-0005", "UNTRIAGED", package="left-pad", fix=Fix.NO, enhanced=True)

OUTCOMES = (
    ScanOutcome("backend", BACKEND, "COMPLETE", (CRITICAL, ACCEPTED, LOW), taken_at=TAKEN),
    ScanOutcome("frontend", FRONTEND, "ACTIVE", (FIXABLE, UNTRIAGED), enhanced=True),
)
POLICY = GatePolicy(
    {"CRITICAL": 0, "HIGH": 0},
    undefined_as="LOW",
    ignore=(IgnoreRule("CVE-2026-0002", "not reachable", expires=dt.date(2027, 1, 25)),),
)


def gate() -> GateResult:
    return evaluate(OUTCOMES, POLICY, TODAY)
