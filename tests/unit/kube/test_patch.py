"""Which containers change, and the patch that changes only them."""

from __future__ import annotations

import pytest

from pipeline.deployment import DeployError
from pipeline.kube import patch
from tests.unit.kube.fakes import deployment

REPO = "registry.example.com/team/app"
NEW = f"{REPO}@sha256:" + "b" * 64

POD = deployment(
    {
        "app": f"{REPO}:1.0",
        "worker": f"{REPO}@sha256:" + "c" * 64,
        "app-sidecar": "registry.example.com/team/app-sidecar:1.0",
        "nested": "registry.example.com/team/app/nested:1.0",
        "envoy": "envoyproxy/envoy:v1.30",
    },
    init={"migrate": f"{REPO}:1.0", "wait": "busybox:1"},
)


@pytest.mark.parametrize(
    ("wanted", "repository", "selected"),
    [
        # by repository, init containers too (as kubectl set image); never the look-alikes
        (None, REPO, ["app", "worker", "migrate"]),
        (("migrate",), REPO, ["migrate"]),  # an init container may be named
        (("worker",), REPO, ["worker"]),
        (("envoy", "app"), REPO, ["app", "envoy"]),  # pod order, whatever order was asked
        (None, "docker.io/envoyproxy/envoy", ["envoy"]),  # Docker Hub's implicit host
        (None, "registry.example.com/team/app-sidecar", ["app-sidecar"]),
    ],
)
def test_select(wanted: tuple[str, ...] | None, repository: str, selected: list[str]) -> None:
    chosen = patch.select(POD, wanted, repository, "deployment default/backend")
    assert [c.name for c in chosen] == selected


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        (
            ("ap",),
            "deployment default/backend has no container named 'ap'; its containers:"
            " app, worker, app-sidecar, nested, envoy (init containers: migrate, wait)",
        ),
    ],
)
def test_unknown_names_are_errors_never_appends(wanted: tuple[str, ...], message: str) -> None:
    with pytest.raises(DeployError) as caught:
        patch.select(POD, wanted, REPO, "deployment default/backend")
    assert str(caught.value).startswith(message)


def test_no_container_of_the_repository_is_an_error_naming_what_runs() -> None:
    with pytest.raises(DeployError, match=r"runs other/thing; name the containers") as caught:
        patch.select(POD, None, "other/thing", "deployment default/backend")
    assert "envoy (envoyproxy/envoy:v1.30)" in str(caught.value)


def test_changes_skip_containers_already_on_the_image() -> None:
    chosen = patch.select(POD, None, REPO, "d")
    same = patch.changes(chosen, f"{REPO}@sha256:" + "c" * 64)
    assert [(c.container, c.before) for c in same] == [
        ("app", f"{REPO}:1.0"),
        ("migrate", f"{REPO}:1.0"),
    ]


def test_the_patch_names_only_the_changed_containers() -> None:
    changed = patch.changes(patch.select(POD, None, REPO, "d"), NEW)
    assert patch.forward(changed, None) == {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "app", "image": NEW},
                        {"name": "worker", "image": NEW},
                    ],
                    "initContainers": [{"name": "migrate", "image": NEW}],
                }
            }
        }
    }


def test_the_undo_patch_restores_each_container_and_the_revision_note() -> None:
    changed = patch.changes(patch.select(POD, None, REPO, "d"), NEW)
    forward = patch.forward(changed, "2" * 40)
    assert forward["metadata"] == {"annotations": {patch.REVISION_ANNOTATION: "2" * 40}}
    undo = patch.backward(changed, None, "2" * 40)
    assert undo["spec"]["template"]["spec"]["containers"] == [
        {"name": "app", "image": f"{REPO}:1.0"},
        {"name": "worker", "image": f"{REPO}@sha256:" + "c" * 64},
    ]
    assert undo["spec"]["template"]["spec"]["initContainers"] == [
        {"name": "migrate", "image": f"{REPO}:1.0"}
    ]
    # no note before: a null deletes the annotation again
    assert undo["metadata"] == {"annotations": {patch.REVISION_ANNOTATION: None}}
    assert "metadata" not in patch.backward(changed, None, None)


def test_revision_is_read_from_the_annotation() -> None:
    assert patch.revision(POD) is None
    noted = deployment({"app": REPO}, annotations={patch.REVISION_ANNOTATION: "abc"})
    assert patch.revision(noted) == "abc"


def test_describe_reads_as_a_diff_line() -> None:
    change = patch.Change("app", "a:1", "a@sha256:x")
    assert change.describe() == 'container "app": a:1 -> a@sha256:x'
    init = patch.Change("migrate", "a:1", "a@sha256:x", init=True)
    assert init.describe() == 'init container "migrate": a:1 -> a@sha256:x'


@pytest.mark.parametrize(
    ("running", "same"),
    [
        (NEW, True),
        (f"{REPO}:1.2.3@sha256:" + "b" * 64, True),  # a tag beside the same digest
        (f"docker.io/library/app@sha256:{'b' * 64}", False),  # another repository
        (f"{REPO}@sha256:" + "c" * 64, False),
        (f"{REPO}:1.0", False),
    ],
)
def test_a_container_already_on_the_digest_needs_no_rollout(running: str, same: bool) -> None:
    assert patch.same_image(running, NEW) is same
    assert (patch.changes([patch.Container("app", running)], NEW) == []) is same


def test_another_name_of_the_repository_selects_its_containers_too() -> None:
    pushed = "127.0.0.1:5101/team/app"
    chosen = patch.select(POD, None, pushed, "d", also=(REPO,))
    assert [c.name for c in chosen] == ["app", "worker", "migrate"]
    assert patch.same_image(f"{REPO}@sha256:" + "b" * 64, f"{pushed}@sha256:" + "b" * 64, (REPO,))
