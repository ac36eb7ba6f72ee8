"""A fake cluster for the deploy core: one Deployment and a controller driven by a fake clock.

`patch` merges containers by name as a strategic-merge patch does (and
refuses names the pod template lacks, where a real server would append), then
bumps `generation`; the status catches up `roll_seconds` later, or reports
ProgressDeadlineExceeded for the images listed in `failing`.

`FakeConnector` hands out one FakeKube (most unit tests), or else knows its
clusters as the real connector finds them: kubeconfig contexts by name, EKS
clusters by region and name, and refuses the others as it does.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pipeline.deployment import DeployError
from pipeline.kube.ports import Cluster, KubeObject, KubeUnavailable


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.slept.append(seconds)
        self.now += seconds


def deployment(
    containers: Mapping[str, str],
    init: Mapping[str, str] | None = None,
    replicas: int = 3,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "backend",
            "namespace": "default",
            "generation": 4,
            "annotations": dict(annotations or {}),
        },
        "spec": {
            "replicas": replicas,
            "template": {
                "spec": {
                    "containers": [
                        {"name": n, "image": i, "ports": [{"containerPort": 80}]}
                        for n, i in containers.items()
                    ],
                    "initContainers": [{"name": n, "image": i} for n, i in (init or {}).items()],
                }
            },
        },
        "status": {
            "observedGeneration": 4,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "availableReplicas": replicas,
            "conditions": [
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
            ],
        },
    }


class FakeKube:
    def __init__(
        self,
        obj: dict[str, Any],
        clock: FakeClock,
        roll_seconds: float = 5.0,
        failing: frozenset[str] = frozenset(),
        unavailable: int = 0,
        label: str | None = None,
        unauthorized: bool = False,
    ) -> None:
        self.obj = obj
        self.clock = clock
        self.roll_seconds = roll_seconds
        self.failing = failing
        self.unavailable = unavailable  # the next N reads fail as transient
        self.label = label  # the cluster, as the real client names it in its errors
        self.unauthorized = unauthorized  # the API server refuses our credentials (401)
        self.patches: list[dict[str, Any]] = []
        self.reads = 0
        self.closed = False
        self._rolled_at: float | None = None

    # ---------------------------------------------------------------- KubeApi
    def get_deployment(self, namespace: str, name: str) -> KubeObject:
        self._exists(namespace, name, "reading")
        self.reads += 1
        if self.unavailable:
            self.unavailable -= 1
            raise KubeUnavailable(
                f"reading deployment default/backend{self._in}: 503 Service Unavailable"
            )
        self._progress()
        return copy.deepcopy(self.obj)

    def patch_deployment(self, namespace: str, name: str, patch: KubeObject) -> KubeObject:
        self._exists(namespace, name, "patching")
        self.patches.append(copy.deepcopy(dict(patch)))
        spec = self.obj["spec"]["template"]["spec"]
        pod = ((patch.get("spec") or {}).get("template") or {}).get("spec") or {}
        for key in ("containers", "initContainers"):
            for change in pod.get(key, []):
                match = [c for c in spec[key] if c["name"] == change["name"]]
                assert match, f"a real server would append to {key}: {change['name']!r}"
                match[0].update(change)
        for key, value in (patch.get("metadata") or {}).get("annotations", {}).items():
            if value is None:
                self.obj["metadata"]["annotations"].pop(key, None)
            else:
                self.obj["metadata"]["annotations"][key] = value
        self.obj["metadata"]["generation"] += 1
        self._rolled_at = self.clock() + self.roll_seconds
        status = self.obj["status"]
        status["updatedReplicas"] = 0  # a new ReplicaSet starts empty
        return copy.deepcopy(self.obj)

    def close(self) -> None:
        self.closed = True

    @property
    def _in(self) -> str:
        return f" in {self.label}" if self.label else ""

    def _exists(self, namespace: str, name: str, doing: str) -> None:
        """Only default/backend is there; anything else is the API server's 404."""
        where = f"deployment {namespace}/{name}{self._in}"
        if self.unauthorized:  # checked before anything is looked up, as the server does
            raise DeployError(
                f"{doing} {where}: 401 Unauthorized (the cluster did not accept the credentials)"
            )
        if (namespace, name) != ("default", "backend"):
            raise DeployError(f'{doing} {where}: 404 deployments.apps "{name}" not found')

    # ---------------------------------------------------------------- controller
    def images(self, key: str = "containers") -> dict[str, str]:
        return {c["name"]: c["image"] for c in self.obj["spec"]["template"]["spec"][key]}

    def _progress(self) -> None:
        if self._rolled_at is None:
            return
        status = self.obj["status"]
        status["observedGeneration"] = self.obj["metadata"]["generation"]
        desired = self.obj["spec"]["replicas"]
        if set(self.images().values()) & self.failing:
            status["updatedReplicas"] = 1
            status["replicas"] = desired + 1
            status["availableReplicas"] = desired
            if self.clock() >= self._rolled_at:
                status["conditions"] = [
                    {
                        "type": "Progressing",
                        "status": "False",
                        "reason": "ProgressDeadlineExceeded",
                        "message": 'ReplicaSet "backend-7d9f" has timed out progressing.',
                    }
                ]
            return
        status["conditions"] = [
            {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}
        ]
        if self.clock() >= self._rolled_at:
            status.update(replicas=desired, updatedReplicas=desired, availableReplicas=desired)
            status["conditions"][0]["reason"] = "NewReplicaSetAvailable"
        else:
            status.update(replicas=desired + 1, updatedReplicas=1, availableReplicas=desired)


class FakeConnector:
    def __init__(
        self,
        kube: FakeKube | None = None,
        error: Exception | None = None,
        *,
        contexts: Mapping[str, FakeKube] | None = None,
        eks: Mapping[tuple[str, str], FakeKube] | None = None,
        region: str | None = None,
        credentials: bool = True,
    ) -> None:
        self.kube = kube
        self.error = error
        #: the kubeconfig's contexts, and the EKS clusters by (region, name); when neither
        #: is given, every cluster is `kube`
        self.contexts = contexts
        self.eks = eks
        self.region = region  # AWS_REGION
        self.credentials = credentials  # whether AWS credentials are there to sign with
        self.clusters: list[Cluster] = []

    def connect(self, cluster: Cluster) -> FakeKube:
        self.clusters.append(cluster)
        if self.error:
            raise self.error
        if self.contexts is None and self.eks is None:
            assert self.kube is not None
            return self.kube
        if cluster.context:
            found = (self.contexts or {}).get(cluster.context)
            if found is None:
                raise DeployError(
                    f"kubeconfig ~/.kube/config, context {cluster.context}: Expected key"
                    f" {cluster.context} in kube-config contexts"
                )
            return found
        if not cluster.name:
            raise DeployError("an eks target needs either `cluster` (EKS) or `context`")
        region = cluster.region or self.region
        if not region:
            raise DeployError(
                f"no region for EKS cluster {cluster.name}: set `region:` on the target,"
                " or AWS_REGION"
            )
        found = (self.eks or {}).get((region, cluster.name))
        if found is None:
            raise DeployError(f"EKS cluster {cluster.name} not found in {region}")
        if not self.credentials:
            raise DeployError(f"no AWS credentials to sign a token for EKS cluster {cluster.name}")
        return found
