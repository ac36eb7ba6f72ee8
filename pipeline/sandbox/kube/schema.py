"""What the emulation knows about the shape of a Deployment: one table, three uses.

The same description drives strict field validation (`fieldValidation=Strict`
rejects unknown fields and wrong scalar types as a real API server does), the
strategic-merge patch (which lists merge by which key) and the OpenAPI v3
document kubectl reads. Objects deep inside a pod (probes, volumes' sources,
affinity, security contexts) are left open: any keys pass and merge as maps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Schema:
    """One node: a scalar, a map, a list or an object with named fields.

    type is one of string, integer, boolean, number, int-or-string, quantity,
    time, object, map, array, any. An object with fields=None is open (any
    keys, unchecked). merge_key and strategy are the x-kubernetes-patch-*
    extensions of a list (or, for strategy retainKeys, of an object).
    """

    type: str
    fields: Mapping[str, Schema] | None = None
    items: Schema | None = None  # an array's items, a map's values
    merge_key: str | None = None
    strategy: str | None = None
    name: str | None = None  # the component name in the OpenAPI document

    def field(self, key: str) -> Schema | None:
        if self.type == "map":
            return self.items
        if self.fields is None:
            return None
        return self.fields.get(key)


STRING = Schema("string")
INTEGER = Schema("integer")
BOOLEAN = Schema("boolean")
NUMBER = Schema("number")
INT_OR_STRING = Schema("int-or-string")
QUANTITY = Schema("quantity")
TIME = Schema("time")
ANY = Schema("any")
OPEN = Schema("object")
STRING_MAP = Schema("map", items=STRING)
QUANTITY_MAP = Schema("map", items=QUANTITY)


def obj(name: str, fields: Mapping[str, Schema], strategy: str | None = None) -> Schema:
    return Schema("object", fields=dict(fields), strategy=strategy, name=name)


def array(items: Schema, key: str | None = None, strategy: str | None = None) -> Schema:
    return Schema("array", items=items, merge_key=key, strategy=strategy)


STRINGS = array(STRING)

OWNER_REFERENCE = obj(
    "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference",
    {
        "apiVersion": STRING,
        "blockOwnerDeletion": BOOLEAN,
        "controller": BOOLEAN,
        "kind": STRING,
        "name": STRING,
        "uid": STRING,
    },
)

OBJECT_META = obj(
    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    {
        "annotations": STRING_MAP,
        "creationTimestamp": TIME,
        "deletionGracePeriodSeconds": INTEGER,
        "deletionTimestamp": TIME,
        "finalizers": array(STRING, strategy="merge"),
        "generateName": STRING,
        "generation": INTEGER,
        "labels": STRING_MAP,
        "managedFields": array(OPEN),
        "name": STRING,
        "namespace": STRING,
        "ownerReferences": array(OWNER_REFERENCE, key="uid", strategy="merge"),
        "resourceVersion": STRING,
        "selfLink": STRING,
        "uid": STRING,
    },
)

LABEL_SELECTOR = obj(
    "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
    {
        "matchExpressions": array(
            obj(
                "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
                {"key": STRING, "operator": STRING, "values": STRINGS},
            )
        ),
        "matchLabels": STRING_MAP,
    },
)

_LOCAL_REF = obj("io.k8s.api.core.v1.LocalObjectReference", {"name": STRING})

ENV_VAR = obj("io.k8s.api.core.v1.EnvVar", {"name": STRING, "value": STRING, "valueFrom": OPEN})

CONTAINER_PORT = obj(
    "io.k8s.api.core.v1.ContainerPort",
    {
        "containerPort": INTEGER,
        "hostIP": STRING,
        "hostPort": INTEGER,
        "name": STRING,
        "protocol": STRING,
    },
)

VOLUME_MOUNT = obj(
    "io.k8s.api.core.v1.VolumeMount",
    {
        "mountPath": STRING,
        "mountPropagation": STRING,
        "name": STRING,
        "readOnly": BOOLEAN,
        "recursiveReadOnly": STRING,
        "subPath": STRING,
        "subPathExpr": STRING,
    },
)

RESOURCES = obj(
    "io.k8s.api.core.v1.ResourceRequirements",
    {
        "claims": array(OPEN, key="name", strategy="merge"),
        "limits": QUANTITY_MAP,
        "requests": QUANTITY_MAP,
    },
)

PROBE = obj(
    "io.k8s.api.core.v1.Probe",
    {
        "exec": OPEN,
        "failureThreshold": INTEGER,
        "grpc": OPEN,
        "httpGet": OPEN,
        "initialDelaySeconds": INTEGER,
        "periodSeconds": INTEGER,
        "successThreshold": INTEGER,
        "tcpSocket": OPEN,
        "terminationGracePeriodSeconds": INTEGER,
        "timeoutSeconds": INTEGER,
    },
)

CONTAINER = obj(
    "io.k8s.api.core.v1.Container",
    {
        "args": STRINGS,
        "command": STRINGS,
        "env": array(ENV_VAR, key="name", strategy="merge"),
        "envFrom": array(
            obj(
                "io.k8s.api.core.v1.EnvFromSource",
                {"configMapRef": OPEN, "prefix": STRING, "secretRef": OPEN},
            )
        ),
        "image": STRING,
        "imagePullPolicy": STRING,
        "lifecycle": OPEN,
        "livenessProbe": PROBE,
        "name": STRING,
        "ports": array(CONTAINER_PORT, key="containerPort", strategy="merge"),
        "readinessProbe": PROBE,
        "resizePolicy": array(OPEN),
        "resources": RESOURCES,
        "restartPolicy": STRING,
        "securityContext": OPEN,
        "startupProbe": PROBE,
        "stdin": BOOLEAN,
        "stdinOnce": BOOLEAN,
        "terminationMessagePath": STRING,
        "terminationMessagePolicy": STRING,
        "tty": BOOLEAN,
        "volumeDevices": array(OPEN, key="devicePath", strategy="merge"),
        "volumeMounts": array(VOLUME_MOUNT, key="mountPath", strategy="merge"),
        "workingDir": STRING,
    },
)

_VOLUME_SOURCES = (
    *("awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "configMap"),
    *("csi", "downwardAPI", "emptyDir", "ephemeral", "fc", "flexVolume", "flocker"),
    *("gcePersistentDisk", "gitRepo", "glusterfs", "hostPath", "image", "iscsi", "nfs"),
    *("persistentVolumeClaim", "photonPersistentDisk", "portworxVolume", "projected"),
    *("quobyte", "rbd", "scaleIO", "secret", "storageos", "vsphereVolume"),
)

VOLUME = obj(
    "io.k8s.api.core.v1.Volume",
    {"name": STRING, **dict.fromkeys(_VOLUME_SOURCES, OPEN)},
)

TOLERATION = obj(
    "io.k8s.api.core.v1.Toleration",
    {
        "effect": STRING,
        "key": STRING,
        "operator": STRING,
        "tolerationSeconds": INTEGER,
        "value": STRING,
    },
)

POD_SPEC = obj(
    "io.k8s.api.core.v1.PodSpec",
    {
        "activeDeadlineSeconds": INTEGER,
        "affinity": OPEN,
        "automountServiceAccountToken": BOOLEAN,
        "containers": array(CONTAINER, key="name", strategy="merge"),
        "dnsConfig": OPEN,
        "dnsPolicy": STRING,
        "enableServiceLinks": BOOLEAN,
        "ephemeralContainers": array(OPEN, key="name", strategy="merge"),
        "hostAliases": array(OPEN, key="ip", strategy="merge"),
        "hostIPC": BOOLEAN,
        "hostNetwork": BOOLEAN,
        "hostPID": BOOLEAN,
        "hostUsers": BOOLEAN,
        "hostname": STRING,
        "imagePullSecrets": array(_LOCAL_REF, key="name", strategy="merge"),
        "initContainers": array(CONTAINER, key="name", strategy="merge"),
        "nodeName": STRING,
        "nodeSelector": STRING_MAP,
        "os": OPEN,
        "overhead": QUANTITY_MAP,
        "preemptionPolicy": STRING,
        "priority": INTEGER,
        "priorityClassName": STRING,
        "readinessGates": array(OPEN),
        "resourceClaims": array(OPEN, key="name", strategy="merge,retainKeys"),
        "resources": RESOURCES,
        "restartPolicy": STRING,
        "runtimeClassName": STRING,
        "schedulerName": STRING,
        "schedulingGates": array(OPEN, key="name", strategy="merge"),
        "securityContext": OPEN,
        "serviceAccount": STRING,
        "serviceAccountName": STRING,
        "setHostnameAsFQDN": BOOLEAN,
        "shareProcessNamespace": BOOLEAN,
        "subdomain": STRING,
        "terminationGracePeriodSeconds": INTEGER,
        "tolerations": array(TOLERATION),
        "topologySpreadConstraints": array(OPEN, key="topologyKey", strategy="merge"),
        "volumes": array(VOLUME, key="name", strategy="merge,retainKeys"),
    },
)

POD_TEMPLATE = obj(
    "io.k8s.api.core.v1.PodTemplateSpec", {"metadata": OBJECT_META, "spec": POD_SPEC}
)

STRATEGY = obj(
    "io.k8s.api.apps.v1.DeploymentStrategy",
    {
        "rollingUpdate": obj(
            "io.k8s.api.apps.v1.RollingUpdateDeployment",
            {"maxSurge": INT_OR_STRING, "maxUnavailable": INT_OR_STRING},
        ),
        "type": STRING,
    },
    strategy="retainKeys",
)

CONDITION = obj(
    "io.k8s.api.apps.v1.DeploymentCondition",
    {
        "lastTransitionTime": TIME,
        "lastUpdateTime": TIME,
        "message": STRING,
        "reason": STRING,
        "status": STRING,
        "type": STRING,
    },
)

DEPLOYMENT_STATUS = obj(
    "io.k8s.api.apps.v1.DeploymentStatus",
    {
        "availableReplicas": INTEGER,
        "collisionCount": INTEGER,
        "conditions": array(CONDITION, key="type", strategy="merge"),
        "observedGeneration": INTEGER,
        "readyReplicas": INTEGER,
        "replicas": INTEGER,
        "unavailableReplicas": INTEGER,
        "updatedReplicas": INTEGER,
    },
)

DEPLOYMENT_SPEC = obj(
    "io.k8s.api.apps.v1.DeploymentSpec",
    {
        "minReadySeconds": INTEGER,
        "paused": BOOLEAN,
        "progressDeadlineSeconds": INTEGER,
        "replicas": INTEGER,
        "revisionHistoryLimit": INTEGER,
        "selector": LABEL_SELECTOR,
        "strategy": STRATEGY,
        "template": POD_TEMPLATE,
    },
)

DEPLOYMENT = obj(
    "io.k8s.api.apps.v1.Deployment",
    {
        "apiVersion": STRING,
        "kind": STRING,
        "metadata": OBJECT_META,
        "spec": DEPLOYMENT_SPEC,
        "status": DEPLOYMENT_STATUS,
    },
)

NAMESPACE = obj(
    "io.k8s.api.core.v1.Namespace",
    {
        "apiVersion": STRING,
        "kind": STRING,
        "metadata": OBJECT_META,
        "spec": obj("io.k8s.api.core.v1.NamespaceSpec", {"finalizers": STRINGS}),
        "status": OPEN,
    },
)

SCALE = obj(
    "io.k8s.api.autoscaling.v1.Scale",
    {
        "apiVersion": STRING,
        "kind": STRING,
        "metadata": OBJECT_META,
        "spec": obj("io.k8s.api.autoscaling.v1.ScaleSpec", {"replicas": INTEGER}),
        "status": OPEN,
    },
)


def components(*roots: Schema) -> dict[str, Schema]:
    """Every named object reachable from the roots, by component name."""
    found: dict[str, Schema] = {}

    def walk(node: Schema | None) -> None:
        if node is None:
            return
        if node.name is not None:
            if node.name in found:
                return
            found[node.name] = node
        for child in (node.fields or {}).values():
            walk(child)
        walk(node.items)

    for root in roots:
        walk(root)
    return found
