"""A Kubernetes API for Deployments, on loopback: what EKS deploys are tested against.

No kube-apiserver can run here, so the sandbox serves enough of the real API
for kubectl (apply, get, set image, rollout status/undo/history, scale) and
the official Python client: discovery, OpenAPI v3, Deployments with
strategic-merge, merge and JSON patches, watches, ReplicaSets, and a
controller that moves each rollout's status along on an injected clock.

Layout: api (HTTP, TLS, the KubeApi service), cluster (state, versions,
events, the controller), rollout (the controller's arithmetic, pure),
deployments (defaults, validation), fields (strict decoding), merge (the
three patch kinds, pure), schema (field and merge-key table), discovery,
tables (server-side printing), selectors, auth (tokens), tls (certificates),
eks (moto's EKS clusters point here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.sandbox.kube.api import KubeApi

__all__ = ["KubeApi"]


def __getattr__(name: str) -> Any:
    if name == "KubeApi":
        from pipeline.sandbox.kube.api import KubeApi

        return KubeApi
    raise AttributeError(name)
