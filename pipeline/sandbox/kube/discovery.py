"""What clients read before they touch a Deployment: version, discovery, OpenAPI.

kubectl 1.32 asks for aggregated discovery but takes the plain
APIVersions/APIGroupList/APIResourceList answers served here. `kubectl apply`
reads /openapi/v3 (and, only when that fails, the protobuf /openapi/v2, which
is not served) to learn whether the server validates fields itself: the
PATCH operations below declare the `fieldValidation` parameter, so kubectl
leaves validation to the server (fields.py) and sends `fieldValidation=Strict`.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from pipeline.sandbox.kube.schema import DEPLOYMENT, NAMESPACE, SCALE, Schema, components

KUBERNETES_VERSION = ("1", "32")
_GIT_VERSION = "v1.32.0-pipeline-sandbox"


def version() -> dict[str, Any]:
    return {
        "major": KUBERNETES_VERSION[0],
        "minor": KUBERNETES_VERSION[1],
        "gitVersion": _GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T00:00:00Z",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    }


def api_groups() -> dict[str, Any]:
    apps = {"groupVersion": "apps/v1", "version": "v1"}
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [{"name": "apps", "versions": [apps], "preferredVersion": apps}],
    }


def apps_group() -> dict[str, Any]:
    apps = {"groupVersion": "apps/v1", "version": "v1"}
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": "apps",
        "versions": [apps],
        "preferredVersion": apps,
    }


_WRITE = ["create", "delete", "get", "list", "patch", "update", "watch"]


def _resource(name: str, kind: str, verbs: list[str], **extra: Any) -> dict[str, Any]:
    singular = "" if "/" in name else kind.lower()
    return {
        "name": name,
        "singularName": singular,
        "namespaced": True,
        "kind": kind,
        "verbs": verbs,
        **extra,
    }


def core_resources() -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {**_resource("namespaces", "Namespace", _WRITE, shortNames=["ns"]), "namespaced": False}
        ],
    }


def apps_resources() -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "apps/v1",
        "resources": [
            _resource(
                "deployments", "Deployment", _WRITE, shortNames=["deploy"], categories=["all"]
            ),
            _resource(
                "deployments/scale",
                "Scale",
                ["get", "patch", "update"],
                group="autoscaling",
                version="v1",
            ),
            _resource("deployments/status", "Deployment", ["get"]),
            _resource("replicasets", "ReplicaSet", ["get", "list"], shortNames=["rs"]),
        ],
    }


# -- OpenAPI v3 ------------------------------------------------------------------------


def openapi_root(documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """/openapi/v3: where each group version's document is, with a content hash."""
    return {
        "paths": {
            path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={_hash(doc)}"}
            for path, doc in documents.items()
        }
    }


@functools.lru_cache(maxsize=1)  # the same for the life of the process; only ever serialised
def openapi_documents() -> dict[str, dict[str, Any]]:
    return {"api/v1": _core_document(), "apis/apps/v1": _apps_document()}


def _hash(doc: dict[str, Any]) -> str:
    return hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:128].upper()


_GVK = "x-kubernetes-group-version-kind"


def _operation(op_id: str, gvk: dict[str, str], action: str, *, validates: bool) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    if validates:
        for name in ("dryRun", "fieldManager", "fieldValidation"):
            parameters.append(
                {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            )
    return {
        "operationId": op_id,
        "parameters": parameters,
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        _GVK: gvk,
    }


def _apps_document() -> dict[str, Any]:
    gvk = {"group": "apps", "version": "v1", "kind": "Deployment"}
    base = "/apis/apps/v1/namespaces/{namespace}/deployments"
    paths = {
        base: {
            "get": _operation("listAppsV1NamespacedDeployment", gvk, "list", validates=False),
            "post": _operation("createAppsV1NamespacedDeployment", gvk, "post", validates=True),
        },
        base + "/{name}": {
            "get": _operation("readAppsV1NamespacedDeployment", gvk, "get", validates=False),
            "put": _operation("replaceAppsV1NamespacedDeployment", gvk, "put", validates=True),
            "patch": _operation("patchAppsV1NamespacedDeployment", gvk, "patch", validates=True),
            "delete": _operation(
                "deleteAppsV1NamespacedDeployment", gvk, "delete", validates=False
            ),
        },
    }
    scale_gvk = {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    paths[base + "/{name}/scale"] = {
        "get": _operation("readAppsV1NamespacedDeploymentScale", scale_gvk, "get", validates=False),
        "patch": _operation(
            "patchAppsV1NamespacedDeploymentScale", scale_gvk, "patch", validates=True
        ),
    }
    return _document(paths, DEPLOYMENT, SCALE)


def _core_document() -> dict[str, Any]:
    gvk = {"group": "", "version": "v1", "kind": "Namespace"}
    paths = {
        "/api/v1/namespaces": {
            "get": _operation("listCoreV1Namespace", gvk, "list", validates=False),
            "post": _operation("createCoreV1Namespace", gvk, "post", validates=True),
        },
        "/api/v1/namespaces/{name}": {
            "get": _operation("readCoreV1Namespace", gvk, "get", validates=False),
            "delete": _operation("deleteCoreV1Namespace", gvk, "delete", validates=False),
        },
    }
    return _document(paths, NAMESPACE)


def _document(paths: dict[str, Any], *roots: Schema) -> dict[str, Any]:
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": _GIT_VERSION},
        "paths": paths,
        "components": {
            "schemas": {name: _component(node) for name, node in components(*roots).items()}
        },
    }


def _component(node: Schema) -> dict[str, Any]:
    if node.fields is None:
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "type": "object",
        "properties": {key: _reference(child) for key, child in sorted(node.fields.items())},
    }


def _reference(node: Schema) -> dict[str, Any]:
    """A property's schema: named objects by $ref, with the patch extensions beside it."""
    if node.name is not None:
        result: dict[str, Any] = {"allOf": [{"$ref": f"#/components/schemas/{node.name}"}]}
    else:
        result = _inline(node)
    if node.strategy:
        result["x-kubernetes-patch-strategy"] = node.strategy
    if node.merge_key:
        result["x-kubernetes-patch-merge-key"] = node.merge_key
    return result


def _inline(node: Schema) -> dict[str, Any]:
    simple: dict[str, dict[str, Any]] = {
        "string": {"type": "string"},
        "integer": {"type": "integer", "format": "int32"},
        "boolean": {"type": "boolean"},
        "number": {"type": "number", "format": "double"},
        "int-or-string": {"x-kubernetes-int-or-string": True},
        "quantity": {"x-kubernetes-int-or-string": True, "format": "quantity"},
        "time": {"type": "string", "format": "date-time"},
        "any": {},
    }
    if node.type in simple:
        return dict(simple[node.type])
    if node.type == "map":
        assert node.items is not None
        return {"type": "object", "additionalProperties": _reference(node.items)}
    if node.type == "array":
        assert node.items is not None
        return {"type": "array", "items": _reference(node.items)}
    return _component(node)
