"""Run reports for the console's tests, including the scan and gate fields of the contract
(`"scan": {"status", "counts", "blocking"}`, `"gate": "pass|block|skipped"`), whichever
stage fills them in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.deployment import Deployment
from pipeline.report.run_report import ImageReport, RunReport

DIGEST = "sha256:" + "0123456789ab" + "c" * 52


@dataclass
class Scanned(ImageReport):
    scan: dict[str, Any] | None = None
    gate: str = "skipped"

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "scan": self.scan, "gate": self.gate}


@dataclass
class Blocked(RunReport):
    """A report whose top-level status says what the gate decided."""

    verdict: str = field(default="blocked")

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "status": self.verdict}


def pushed(name: str = "app", **kw: Any) -> Scanned:
    image = Scanned(name, f"reg.example/team/{name}", ["sha-abc1234", "1.2.3"], **kw)
    image.digest, image.built, image.pushed = DIGEST, True, True
    return image


def ok_run(*images: ImageReport, deployments: list[Deployment] | None = None) -> RunReport:
    return RunReport(
        stages=["build", "push", "deploy"],
        images=list(images) or [pushed()],
        finished=True,
        deployments=deployments or [],
        timings={"prepare": 0.25, "build": 3.5, "push": 12.0, "deploy": 75.0},
    )


def deployment(status: str = "completed", image: str = "reg.example/team/app") -> Deployment:
    return Deployment("ecs", "prod/web", f"{image}@{DIGEST}", None, status, "")  # type: ignore[arg-type]
