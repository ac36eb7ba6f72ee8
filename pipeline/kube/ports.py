"""What the Kubernetes deploy needs from the outside world, as small Protocols.

Objects cross these ports as the Kubernetes API's own JSON (plain dicts),
so the core never sees a vendor model class and a fake is a few lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pipeline.deployment import DeployError

KubeObject = Mapping[str, Any]


class KubeUnavailable(DeployError):
    """The API server did not answer this time (connection, 429, 5xx); worth asking again."""


@dataclass(frozen=True)
class Cluster:
    """An EKS cluster by name (and region), or a context of the kubeconfig (KUBECONFIG)."""

    name: str | None = None
    context: str | None = None
    region: str | None = None

    def __str__(self) -> str:
        return f"context {self.context}" if self.context else f"EKS cluster {self.name}"


class KubeApi(Protocol):
    """One cluster's Deployments."""

    def get_deployment(self, namespace: str, name: str) -> KubeObject: ...

    def patch_deployment(self, namespace: str, name: str, patch: KubeObject) -> KubeObject:
        """A strategic-merge patch (lists of containers merge by name)."""
        ...

    def close(self) -> None: ...


class KubeConnector(Protocol):
    def connect(self, cluster: Cluster) -> KubeApi: ...
