"""The result of one deploy target, as the run report lists it.

Every deploy target (ECS, EKS, a GitOps manifest) returns one of these
instead of printing: the report, the exit code and the CI summary are all
derived from it. A target that failed or was rolled back says so here; the
run turns that into exit code 1. The fields after `message` are what a
target can add to explain itself (ECS fills most of them); the report shows
them only when set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pipeline.errors import DeployError

__all__ = ["DeployError", "Deployment", "ImageChange", "Status"]

Status = Literal["completed", "rolled_back", "failed", "skipped"]


@dataclass(frozen=True)
class ImageChange:
    """One container whose image a deploy changes."""

    container: str
    old: str
    new: str

    def render(self) -> str:
        return f"{self.container}: {self.old} -> {self.new}"


@dataclass(frozen=True)
class Deployment:
    type: str  # ecs | eks | manifest
    target: str  # "cluster/service", "cluster/namespace/deployment", "repo:branch"
    image: str  # what the target runs (or would run) now: repo@sha256:...
    previous: str | None
    status: Status
    message: str = ""
    #: service events, stopped tasks: what explains a failure
    events: tuple[str, ...] = ()
    #: the containers that run the image
    containers: tuple[str, ...] = ()
    changes: tuple[ImageChange, ...] = ()
    #: ECS: the task definition registered (or kept) and the one it replaced
    task_definition: str | None = None
    previous_task_definition: str | None = None
    deployment_id: str | None = None
    #: what the guard decided, fields not carried over, ...
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Completed, or nothing needed doing."""
        return self.status in ("completed", "skipped")

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "type": self.type,
            "target": self.target,
            "image": self.image,
            "previous": self.previous,
            "status": self.status,
            "message": self.message,
        }
        extra: dict[str, object] = {
            "events": list(self.events),
            "containers": list(self.containers),
            "changes": [
                {"container": c.container, "old": c.old, "new": c.new} for c in self.changes
            ],
            "task_definition": self.task_definition,
            "previous_task_definition": self.previous_task_definition,
            "deployment_id": self.deployment_id,
            "notes": list(self.notes),
        }
        out.update({k: v for k, v in extra.items() if v})
        return out
