"""What the sandbox's control channel can ask of the Kubernetes emulation.

`pipeline sandbox fail-next eks NAMESPACE/DEPLOYMENT` arrives as the action
"fail-next/eks" with {"namespace", "deployment"}; the server registers

    channel.actions["fail-next/eks"] = fail_next_action(kube, ActionError)

where ActionError is the channel's error for a request that cannot be done
(its message reaches the user as it is).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.sandbox.kube.api import KubeApi
from pipeline.sandbox.kube.status import ApiError

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def fail_next_action(api: KubeApi, error: Callable[[str], Exception] = ValueError) -> Handler:
    """The "fail-next/eks" handler: arms the next rollout of an existing Deployment."""

    def handle(request: dict[str, Any]) -> dict[str, Any]:
        namespace, name = request.get("namespace"), request.get("deployment")
        if not isinstance(namespace, str) or not namespace:
            raise error("fail-next eks needs a namespace (NAMESPACE/DEPLOYMENT)")
        if not isinstance(name, str) or not name:
            raise error("fail-next eks needs a deployment name (NAMESPACE/DEPLOYMENT)")
        try:
            deployment = api.cluster.get(namespace, name)
        except ApiError:
            raise error(
                f'no Deployment "{name}" in namespace "{namespace}" of the sandbox\'s Kubernetes '
                "API: create it first (kubectl apply against the sandbox's KUBECONFIG)"
            ) from None
        api.fail_next(namespace, name)
        seconds = int(deployment["spec"].get("progressDeadlineSeconds") or 600)
        after = api.cluster.timing.deadline(seconds)
        return {
            "namespace": namespace,
            "deployment": name,
            "message": (
                f"the next rollout of {namespace}/{name} will not become available and will "
                f"report ProgressDeadlineExceeded {after:g} s after it starts "
                f"(progressDeadlineSeconds {seconds}, scaled)"
            ),
        }

    return handle
