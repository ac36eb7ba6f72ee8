"""kubectl v1.32 itself against the emulation: apply, get, set image, rollout status/undo."""

from __future__ import annotations

import json
import re

from pipeline.sandbox.kube.api import KubeApi
from tests.integration.sandbox.kube.support import Kubectl, deployment

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
REVISION = "deployment.kubernetes.io/revision"


def _containers(obj: dict[str, object]) -> dict[str, dict[str, object]]:
    pod = obj["spec"]["template"]["spec"]  # type: ignore[index]
    return {c["name"]: c for c in pod["containers"]}  # type: ignore[index]


def test_apply_get_set_image_and_rollout_status(kubectl: Kubectl) -> None:
    manifest = deployment()
    assert "deployment.apps/web created" in kubectl.apply(manifest)
    assert 'deployment "web" successfully rolled out' in kubectl(
        "rollout", "status", "deployment/web", "--timeout=30s"
    )
    first = kubectl.json("get", "deploy", "web")
    status = first["status"]
    assert status["observedGeneration"] == first["metadata"]["generation"] == 1
    assert status["replicas"] == status["updatedReplicas"] == status["availableReplicas"] == 3
    assert {c["type"]: c["reason"] for c in status["conditions"]} == {
        "Available": "MinimumReplicasAvailable",
        "Progressing": "NewReplicaSetAvailable",
    }
    assert json.loads(first["metadata"]["annotations"][LAST_APPLIED]) == {
        **manifest,
        "metadata": {**manifest["metadata"], "annotations": {}, "namespace": "default"},
    }

    assert "image updated" in kubectl(
        "set", "image", "deployment/web", "app=registry.example/app:2"
    )
    kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    second = kubectl.json("get", "deploy", "web")
    assert second["metadata"]["generation"] == 2
    assert second["metadata"]["annotations"][REVISION] == "2"
    containers = _containers(second)
    assert containers["app"]["image"] == "registry.example/app:2"
    assert containers["app"]["env"] == [{"name": "MODE", "value": "prod"}]
    before = _containers(first)
    assert containers["envoy"] == before["envoy"]  # the sidecar is untouched
    assert (
        second["spec"]["template"]["spec"]["initContainers"]
        == (first["spec"]["template"]["spec"]["initContainers"])
    )
    history = kubectl("rollout", "history", "deployment/web")
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]


def test_apply_again_three_way_merges_and_unchanged_is_a_no_op(kubectl: Kubectl) -> None:
    kubectl.apply(deployment())
    assert "deployment.apps/web unchanged" in kubectl.apply(deployment())
    kubectl("set", "image", "deployment/web", "envoy=registry.example/envoy:1.31")
    kubectl("label", "deployment", "web", "owner=payments")
    changed = deployment(image="registry.example/app:3", replicas=2)
    assert "deployment.apps/web configured" in kubectl.apply(changed)
    after = kubectl.json("get", "deploy", "web")
    containers = _containers(after)
    assert containers["app"]["image"] == "registry.example/app:3"
    assert after["spec"]["replicas"] == 2
    # What the manifest says wins over drift; what it never mentioned is kept.
    assert containers["envoy"]["image"] == "registry.example/envoy:1.30"
    assert after["metadata"]["labels"] == {"app": "web", "owner": "payments"}


def test_get_prints_the_server_side_table(kubectl: Kubectl) -> None:
    kubectl.apply(deployment())
    kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    lines = kubectl("get", "deployments", "-o", "wide").splitlines()
    assert lines[0].split()[:5] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert lines[1].split()[:4] == ["web", "3/3", "3", "3"]
    assert "app,envoy" in lines[1]


def test_fail_next_makes_rollout_status_fail_and_undo_recovers(
    kubectl: Kubectl, kube_api: KubeApi
) -> None:
    # progressDeadlineSeconds 200 is 1 s in the sandbox (scaled by 1/200).
    kubectl.apply(deployment(progressDeadlineSeconds=200))
    kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    kube_api.fail_next("default", "web")
    kubectl("set", "image", "deployment/web", "app=registry.example/app:broken")
    failed = kubectl.run("rollout", "status", "deployment/web", "--timeout=30s")
    assert failed.returncode == 1
    assert 'deployment "web" exceeded its progress deadline' in failed.stderr
    progressing = {
        c["type"]: c for c in kubectl.json("get", "deploy", "web")["status"]["conditions"]
    }["Progressing"]
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")

    assert "rolled back" in kubectl("rollout", "undo", "deployment/web")
    kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    after = kubectl.json("get", "deploy", "web")
    assert _containers(after)["app"]["image"] == "registry.example/app:1"
    assert after["metadata"]["annotations"][REVISION] == "3"
    assert after["status"]["availableReplicas"] == 3


def test_pause_and_resume(kubectl: Kubectl) -> None:
    kubectl.apply(deployment())
    kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    kubectl("rollout", "pause", "deployment/web")
    kubectl("set", "image", "deployment/web", "app=registry.example/app:2")
    paused = kubectl.run("rollout", "status", "deployment/web", "--timeout=2s")
    assert paused.returncode == 1  # kubectl waits for a paused rollout until its timeout
    assert kubectl.json("get", "deploy", "web")["metadata"]["annotations"][REVISION] == "1"
    kubectl("rollout", "resume", "deployment/web")
    kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    assert kubectl.json("get", "deploy", "web")["metadata"]["annotations"][REVISION] == "2"


def test_scale_and_delete(kubectl: Kubectl) -> None:
    kubectl.apply(deployment())
    assert "scaled" in kubectl("scale", "deployment/web", "--replicas=5")
    kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    assert kubectl.json("get", "deploy", "web")["status"]["availableReplicas"] == 5
    assert "deleted" in kubectl("delete", "deployment", "web", "--timeout=30s")
    missing = kubectl.run("get", "deploy", "web")
    assert missing.returncode == 1
    assert 'deployments.apps "web" not found' in missing.stderr


def test_strict_validation_and_bad_requests_read_like_a_real_server(kubectl: Kubectl) -> None:
    typo = deployment()
    typo["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    refused = kubectl.run("apply", "-f", "-", stdin=json.dumps(typo))
    assert refused.returncode == 1
    assert 'unknown field "spec.template.spec.containers[0].imagePullPolicyy"' in refused.stderr
    no_image = deployment()
    del no_image["spec"]["template"]["spec"]["containers"][0]["image"]
    invalid = kubectl.run("apply", "-f", "-", stdin=json.dumps(no_image))
    assert invalid.returncode == 1
    assert "spec.template.spec.containers[0].image: Required value" in invalid.stderr


def test_a_wrong_token_is_refused(kubectl: Kubectl) -> None:
    refused = kubectl.run("--token=not-the-sandbox-token", "get", "deployments")
    assert refused.returncode == 1
    assert "You must be logged in to the server" in refused.stderr


def test_namespaces(kubectl: Kubectl) -> None:
    kubectl("create", "namespace", "team-a")
    kubectl.apply(deployment(namespace="team-a"))
    listed = kubectl.json("get", "deploy", "--all-namespaces")
    assert [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in listed["items"]] == [
        ("team-a", "web")
    ]
    missing = kubectl.run("apply", "-f", "-", stdin=json.dumps(deployment(namespace="nowhere")))
    assert missing.returncode == 1
    assert 'namespaces "nowhere" not found' in missing.stderr


def test_kubectl_and_server_versions(kubectl: Kubectl) -> None:
    version = json.loads(kubectl("version", "-o", "json"))
    assert version["serverVersion"]["gitVersion"] == "v1.32.0-pipeline-sandbox"
    client_minor = int(re.match(r"\d+", version["clientVersion"]["minor"]).group())  # type: ignore[union-attr]
    assert client_minor >= 27, (
        "kubectl older than 1.27 does not hand field validation to the server; "
        f"found {version['clientVersion']['gitVersion']}"
    )


def test_typed_commands_that_send_protobuf(kubectl: Kubectl) -> None:
    kubectl("create", "namespace", "team-b")
    kubectl("label", "namespace", "team-b", "owner=payments")
    kubectl(
        "create",
        "deployment",
        "api",
        "--image=registry.example/api:1",
        "--replicas=2",
        "-n",
        "team-b",
    )
    kubectl("rollout", "status", "deployment/api", "-n", "team-b", "--timeout=30s")
    created = kubectl.json("get", "deploy", "api", "-n", "team-b")
    assert created["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/api:1"
    assert created["status"]["availableReplicas"] == 2
    labels = kubectl.json("get", "namespace", "team-b")["metadata"]["labels"]
    assert labels["owner"] == "payments"
    kubectl("annotate", "deployment", "api", "-n", "team-b", "team=payments")
    kubectl("rollout", "restart", "deployment/api", "-n", "team-b")
    kubectl("rollout", "status", "deployment/api", "-n", "team-b", "--timeout=30s")
    restarted = kubectl.json("get", "deploy", "api", "-n", "team-b")
    assert restarted["metadata"]["annotations"]["team"] == "payments"
    assert restarted["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    assert (
        "kubectl.kubernetes.io/restartedAt"
        in (restarted["spec"]["template"]["metadata"]["annotations"])
    )
