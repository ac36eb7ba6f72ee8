"""The emulated cluster on a fake clock: writes, versions, the controller, fail-next."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.sandbox.kube.cluster import REVISION, Cluster, Gone
from pipeline.sandbox.kube.rollout import Timing
from pipeline.sandbox.kube.status import ApiError
from tests.unit.sandbox.kube.fakes import Clock, manifest

SMP = "application/strategic-merge-patch+json"
TIMING = Timing(observe=0.5, pod=1.0, deadline_scale=0.01)  # deadline 600 s -> 6 s


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cluster(clock: Clock) -> Cluster:
    return Cluster(clock, TIMING)


def run(cluster: Cluster, clock: Clock, seconds: float, step: float = 0.25) -> None:
    """Let the controller work for `seconds` of the fake clock."""
    end = clock.now + seconds
    while clock.now < end:
        clock.now = min(end, clock.now + step)
        cluster.tick()


def set_image(cluster: Cluster, image: str) -> dict[str, Any]:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}}
    return cluster.patch("default", "web", SMP, patch)


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == kind)


def test_create_fills_in_server_fields_and_keeps_the_last_applied_annotation(
    cluster: Cluster,
) -> None:
    created = cluster.create("default", manifest())
    meta = created["metadata"]
    assert meta["generation"] == 1 and meta["namespace"] == "default" and meta["uid"]
    assert meta["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] == ('{"x": 1}\n')
    assert created["status"] == {}
    assert created["spec"]["progressDeadlineSeconds"] == 600  # defaulted
    container = created["spec"]["template"]["spec"]["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert cluster.get("default", "web") == created


def test_status_is_observed_after_the_controller_delay_then_progresses(
    cluster: Cluster, clock: Clock
) -> None:
    cluster.create("default", manifest())
    run(cluster, clock, 0.25)
    assert cluster.get("default", "web")["status"] == {}
    run(cluster, clock, 0.25)
    observed = cluster.get("default", "web")
    assert observed["status"]["observedGeneration"] == 1
    assert observed["metadata"]["annotations"][REVISION] == "1"
    run(cluster, clock, 3)
    done = cluster.get("default", "web")
    assert done["status"]["availableReplicas"] == done["status"]["updatedReplicas"] == 2
    assert condition(done, "Progressing")["reason"] == "NewReplicaSetAvailable"
    assert condition(done, "Available")["status"] == "True"


def test_generation_moves_only_with_the_spec_and_the_revision_with_the_template(
    cluster: Cluster, clock: Clock
) -> None:
    cluster.create("default", manifest())
    run(cluster, clock, 5)
    labelled = cluster.patch("default", "web", SMP, {"metadata": {"labels": {"team": "a"}}})
    assert labelled["metadata"]["generation"] == 1
    scaled = cluster.patch("default", "web", SMP, {"spec": {"replicas": 3}})
    assert scaled["metadata"]["generation"] == 2
    run(cluster, clock, 5)
    assert cluster.get("default", "web")["metadata"]["annotations"][REVISION] == "1"
    changed = set_image(cluster, "app:2")
    assert changed["metadata"]["generation"] == 3
    run(cluster, clock, 5)
    after = cluster.get("default", "web")
    assert after["metadata"]["annotations"][REVISION] == "2"
    assert after["status"]["observedGeneration"] == 3
    images = [c["image"] for c in after["spec"]["template"]["spec"]["containers"]]
    assert images == ["app:2", "envoy:1"]


def test_a_write_that_changes_nothing_keeps_the_resource_version(cluster: Cluster) -> None:
    created = cluster.create("default", manifest())
    again = set_image(cluster, "app:1")
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_a_stale_resource_version_is_a_conflict(cluster: Cluster) -> None:
    created = cluster.create("default", manifest())
    set_image(cluster, "app:2")
    stale = manifest("app:3")
    stale["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
    with pytest.raises(ApiError) as err:
        cluster.replace("default", "web", stale)
    assert (err.value.code, err.value.reason) == (409, "Conflict")


def test_status_sent_by_a_client_is_ignored(cluster: Cluster) -> None:
    body = manifest()
    body["status"] = {"availableReplicas": 99}
    assert cluster.create("default", body)["status"] == {}


def test_fail_next_ends_in_progress_deadline_exceeded_and_a_rollback_recovers(
    cluster: Cluster, clock: Clock
) -> None:
    cluster.create("default", manifest(replicas=3))
    run(cluster, clock, 5)
    cluster.fail_next("default", "web")
    set_image(cluster, "app:bad")
    run(cluster, clock, 5)
    waiting = cluster.get("default", "web")
    assert condition(waiting, "Progressing")["status"] == "True"
    assert waiting["status"]["updatedReplicas"] == 1
    assert waiting["status"]["availableReplicas"] == 3  # the old pods keep serving
    run(cluster, clock, 2)  # 0.5 s to observe + 6 s deadline have passed
    failed = cluster.get("default", "web")
    progressing = condition(failed, "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert failed["metadata"]["annotations"][REVISION] == "2"

    set_image(cluster, "app:1")  # the rollback: the old template again
    run(cluster, clock, 1)
    back = cluster.get("default", "web")
    assert back["metadata"]["annotations"][REVISION] == "3"  # revision 1 moves to 3
    assert condition(back, "Progressing")["reason"] == "NewReplicaSetAvailable"
    assert back["status"]["replicas"] == back["status"]["availableReplicas"] == 3


def test_fail_next_applies_once(cluster: Cluster, clock: Clock) -> None:
    cluster.create("default", manifest())
    run(cluster, clock, 5)
    cluster.fail_next("default", "web")
    set_image(cluster, "app:2")
    run(cluster, clock, 10)
    set_image(cluster, "app:3")
    run(cluster, clock, 5)
    assert condition(cluster.get("default", "web"), "Progressing")["reason"] == (
        "NewReplicaSetAvailable"
    )


def test_replica_sets_carry_what_rollout_undo_reads(cluster: Cluster, clock: Clock) -> None:
    created = cluster.create("default", manifest())
    run(cluster, clock, 5)
    set_image(cluster, "app:2")
    run(cluster, clock, 5)
    items, _ = cluster.replica_sets("default")
    by_revision = {rs["metadata"]["annotations"][REVISION]: rs for rs in items}
    assert set(by_revision) == {"1", "2"}
    first, second = by_revision["1"], by_revision["2"]
    owner = first["metadata"]["ownerReferences"][0]
    assert (owner["uid"], owner["controller"]) == (created["metadata"]["uid"], True)
    digest = first["metadata"]["labels"]["pod-template-hash"]
    assert first["metadata"]["name"] == f"web-{digest}"
    assert first["spec"]["template"]["spec"]["containers"][0]["image"] == "app:1"
    assert (first["spec"]["replicas"], second["spec"]["replicas"]) == (0, 2)
    assert second["status"]["availableReplicas"] == 2


def test_unknown_fields_strict_is_an_error_warn_drops_them_with_a_warning(
    cluster: Cluster,
) -> None:
    body = manifest()
    body["spec"]["template"]["spec"]["containers"][0]["imagee"] = "typo"
    with pytest.raises(ApiError) as err:
        cluster.create("default", body, "Strict")
    assert err.value.code == 400
    assert 'unknown field "spec.template.spec.containers[0].imagee"' in err.value.message
    warnings: list[str] = []
    created = cluster.create("default", body, "Warn", warnings)
    assert warnings == ['unknown field "spec.template.spec.containers[0].imagee"']
    assert "imagee" not in created["spec"]["template"]["spec"]["containers"][0]


def test_a_wrong_type_is_an_error_in_every_mode(cluster: Cluster) -> None:
    body = manifest()
    body["spec"]["replicas"] = "2"
    for mode in ("Strict", "Warn", "Ignore"):
        with pytest.raises(ApiError) as err:
            cluster.create("default", body, mode)
        assert err.value.code == 400
        assert "spec.replicas" in err.value.message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["spec"]["template"]["spec"]["containers"][0].pop("image"), "image"),
        (lambda b: b["spec"]["template"]["metadata"].update(labels={"app": "x"}), "labels"),
        (lambda b: b["spec"].pop("selector"), "spec.selector"),
        (lambda b: b["metadata"].update(name="Web_1"), "metadata.name"),
        (
            lambda b: b["spec"]["template"]["spec"]["containers"].append(
                {"name": "app", "image": "x"}
            ),
            "Duplicate",
        ),
    ],
)
def test_invalid_deployments_are_422(cluster: Cluster, change: Any, field: str) -> None:
    body = manifest()
    change(body)
    with pytest.raises(ApiError) as err:
        cluster.create("default", body)
    assert (err.value.code, err.value.reason) == (422, "Invalid")
    assert field in err.value.message


def test_the_selector_is_immutable(cluster: Cluster) -> None:
    cluster.create("default", manifest())
    patch = {
        "spec": {
            "selector": {"matchLabels": {"app": "web", "v": "2"}},
            "template": {"metadata": {"labels": {"v": "2"}}},
        }
    }
    with pytest.raises(ApiError) as err:
        cluster.patch("default", "web", SMP, patch)
    assert "field is immutable" in err.value.message


def test_missing_namespace_and_object_and_duplicates(cluster: Cluster) -> None:
    with pytest.raises(ApiError) as err:
        cluster.create("nowhere", manifest())
    assert err.value.message == 'namespaces "nowhere" not found'
    with pytest.raises(ApiError) as err:
        cluster.get("default", "web")
    assert err.value.message == 'deployments.apps "web" not found'
    cluster.create("default", manifest())
    with pytest.raises(ApiError) as err:
        cluster.create("default", manifest())
    assert (err.value.code, err.value.reason) == (409, "AlreadyExists")


def test_patch_kinds(cluster: Cluster) -> None:
    cluster.create("default", manifest())
    merged = cluster.patch(
        "default",
        "web",
        "application/merge-patch+json",
        {"metadata": {"labels": {"tier": "web"}}},
    )
    assert merged["metadata"]["labels"] == {"tier": "web"}
    patched = cluster.patch(
        "default",
        "web",
        "application/json-patch+json",
        [{"op": "replace", "path": "/spec/template/spec/containers/1/image", "value": "envoy:2"}],
    )
    assert patched["spec"]["template"]["spec"]["containers"][1]["image"] == "envoy:2"
    with pytest.raises(ApiError) as err:
        cluster.patch("default", "web", "application/apply-patch+yaml", {})
    assert err.value.code == 415


def test_the_scale_subresource(cluster: Cluster) -> None:
    cluster.create("default", manifest())
    assert cluster.scale("default", "web")["spec"]["replicas"] == 2
    cluster.set_scale("default", "web", "application/merge-patch+json", {"spec": {"replicas": 5}})
    after = cluster.get("default", "web")
    assert after["spec"]["replicas"] == 5 and after["metadata"]["generation"] == 2


def test_events_follow_resource_versions_and_old_versions_are_gone(cluster: Cluster) -> None:
    created = cluster.create("default", manifest())
    since = int(created["metadata"]["resourceVersion"])
    set_image(cluster, "app:2")
    events = cluster.events("deployments", "default", since, timeout=0)
    assert [e.type for e in events or []] == ["MODIFIED"]
    assert cluster.events("deployments", "other", since, timeout=0) == []
    for n in range(2100):  # more writes than the log keeps
        cluster.patch("default", "web", SMP, {"metadata": {"labels": {"n": str(n)}}})
    with pytest.raises(Gone):
        cluster.events("deployments", None, since, timeout=0)


def test_close_ends_waiting_watches(cluster: Cluster) -> None:
    cluster.close()
    assert cluster.events("deployments", None, 0, timeout=5) is None


def test_namespaces(cluster: Cluster) -> None:
    assert {n["metadata"]["name"] for n in cluster.namespaces()} >= {"default", "kube-system"}
    cluster.create_namespace({"metadata": {"name": "apps"}})
    cluster.create("apps", manifest())
    cluster.delete_namespace("apps")
    with pytest.raises(ApiError):
        cluster.get("apps", "web")
    with pytest.raises(ApiError) as err:
        cluster.delete_namespace("default")
    assert err.value.code == 403


def test_namespace_labels_and_annotations_can_be_patched(cluster: Cluster) -> None:
    cluster.create_namespace({"metadata": {"name": "apps"}})
    patched = cluster.patch_namespace(
        "apps",
        "application/merge-patch+json",
        {
            "metadata": {"labels": {"team": "a"}, "annotations": {"x": "1"}},
            "status": {"phase": "Gone"},
        },
    )
    assert patched["metadata"]["labels"] == {"team": "a", "kubernetes.io/metadata.name": "apps"}
    assert patched["metadata"]["annotations"] == {"x": "1"}
    assert patched["status"] == {"phase": "Active"}


def test_objects_handed_out_are_copies(cluster: Cluster) -> None:
    created = cluster.create("default", manifest())
    created["spec"]["replicas"] = 99
    assert cluster.get("default", "web")["spec"]["replicas"] == 2
    json.dumps(cluster.get("default", "web"))  # and plain JSON


def test_a_paused_deployment_rolls_out_nothing_until_resumed(
    cluster: Cluster, clock: Clock
) -> None:
    cluster.create("default", manifest())
    run(cluster, clock, 5)
    cluster.patch("default", "web", SMP, {"spec": {"paused": True}})
    set_image(cluster, "app:2")
    run(cluster, clock, 5)
    paused = cluster.get("default", "web")
    assert paused["status"]["observedGeneration"] == paused["metadata"]["generation"]
    assert paused["metadata"]["annotations"][REVISION] == "1"
    assert condition(paused, "Progressing")["reason"] == "DeploymentPaused"
    assert "updatedReplicas" not in paused["status"]  # no pod runs the new template
    assert paused["status"]["availableReplicas"] == 2
    cluster.patch("default", "web", SMP, {"spec": {"paused": None}})
    run(cluster, clock, 5)
    resumed = cluster.get("default", "web")
    assert resumed["metadata"]["annotations"][REVISION] == "2"
    assert condition(resumed, "Progressing")["reason"] == "NewReplicaSetAvailable"
