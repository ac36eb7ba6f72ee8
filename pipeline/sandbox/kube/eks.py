"""Every EKS cluster created in the sandbox's moto answers at the emulated API.

moto makes up an endpoint (`https://<random>.gr7.<region>.eks.amazonaws.com`)
and random certificate data; a client following describe_cluster must reach
the sandbox's Kubernetes API instead and trust its CA, as it would trust a
real cluster's. All clusters, in every account and region, share the one API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def patch_eks(endpoint: str, ca_data: str) -> Callable[[], None]:
    """ca_data: base64 of the CA's PEM, as EKS's certificateAuthority.data. Returns the undo."""
    from moto.eks.models import EKSBackend

    original = EKSBackend.create_cluster

    def create_cluster(self: Any, *args: Any, **kwargs: Any) -> Any:
        cluster = original(self, *args, **kwargs)
        cluster.endpoint = endpoint
        cluster.certificate_authority = {"data": ca_data}
        return cluster

    setattr(EKSBackend, "create_cluster", create_cluster)  # noqa: B010 - patching a class

    def undo() -> None:
        setattr(EKSBackend, "create_cluster", original)  # noqa: B010

    return undo
