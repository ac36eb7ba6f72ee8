"""Discovery and OpenAPI: what kubectl needs to find Deployments and hand validation over."""

from __future__ import annotations

from typing import Any

from pipeline.sandbox.kube import discovery


def test_discovery_names_deployments_and_their_subresources() -> None:
    resources = {r["name"]: r for r in discovery.apps_resources()["resources"]}
    assert resources["deployments"]["kind"] == "Deployment"
    assert "watch" in resources["deployments"]["verbs"]
    assert resources["deployments"]["shortNames"] == ["deploy"]
    assert resources["deployments/scale"]["group"] == "autoscaling"
    groups = discovery.api_groups()["groups"]
    assert [g["preferredVersion"]["groupVersion"] for g in groups] == ["apps/v1"]


def test_the_openapi_root_points_at_each_document_with_a_content_hash() -> None:
    documents = discovery.openapi_documents()
    root = discovery.openapi_root(documents)
    url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")
    assert discovery.openapi_root(discovery.openapi_documents()) == root  # stable


def test_the_deployment_patch_declares_field_validation_so_kubectl_validates_on_the_server() -> (
    None
):
    doc = discovery.openapi_documents()["apis/apps/v1"]
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "apps",
        "version": "v1",
        "kind": "Deployment",
    }
    assert {"name": "fieldValidation", "in": "query"}.items() <= patch["parameters"][2].items()


def test_containers_merge_by_name_in_the_schema() -> None:
    schemas: dict[str, Any] = discovery.openapi_documents()["apis/apps/v1"]["components"]["schemas"]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["items"] == {
        "allOf": [{"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}]
    }
    strategy = schemas["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]
    assert strategy["x-kubernetes-patch-strategy"] == "retainKeys"
