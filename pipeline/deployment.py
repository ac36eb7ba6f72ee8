"""The result of one deploy target, as the run report lists it.

Every deploy target (ECS, EKS, a GitOps manifest) returns one of these
instead of printing: the report, the exit code and the CI summary are all
derived from it. A target that failed or was rolled back says so here; the
run turns that into exit code 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.errors import StageError

Status = Literal["completed", "rolled_back", "failed", "skipped"]


class DeployError(StageError):
    """A deploy target could not be reached, changed or watched to the end."""


@dataclass(frozen=True)
class Deployment:
    type: str  # ecs | eks | manifest
    target: str  # "cluster/service", "namespace/deployment", "repo:branch"
    image: str  # what the target runs (or would run) now: repo@sha256:...
    previous: str | None
    status: Status
    message: str = ""

    @property
    def ok(self) -> bool:
        """Completed, or nothing needed doing."""
        return self.status in ("completed", "skipped")

    def to_json(self) -> dict[str, str | None]:
        return {
            "type": self.type,
            "target": self.target,
            "image": self.image,
            "previous": self.previous,
            "status": self.status,
            "message": self.message,
        }
