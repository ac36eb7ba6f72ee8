"""The three patch kinds: strategic merge by the Deployment schema, RFC 7386, RFC 6902."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pipeline.sandbox.kube.merge import PatchError, json_patch, merge_patch, strategic_merge
from pipeline.sandbox.kube.schema import DEPLOYMENT


def _deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a"]},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "initContainers": [{"name": "migrate", "image": "app:1", "args": ["up"]}],
                    "containers": [
                        {
                            "name": "app",
                            "image": "app:1",
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "ports": [{"containerPort": 80}],
                            "futureField": {"kept": True},
                        },
                        {"name": "envoy", "image": "envoy:1", "args": ["--x"]},
                    ],
                    "tolerations": [{"key": "a"}, {"key": "b"}],
                    "volumes": [{"name": "cfg", "configMap": {"name": "c"}}],
                },
            },
        },
    }


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = obj["spec"]["template"]["spec"]
    return result


def _containers(**images: str) -> dict[str, Any]:
    listed = [{"name": name, "image": image} for name, image in images.items()]
    return {"spec": {"template": {"spec": {"containers": listed}}}}


def test_a_patch_naming_one_container_changes_only_its_image() -> None:
    original = _deployment()
    result = strategic_merge(original, _containers(app="app:2"), DEPLOYMENT)
    expected = _deployment()
    _pod(expected)["containers"][0]["image"] = "app:2"
    assert result == expected
    assert original == _deployment()  # the input is not changed


def test_sidecars_init_containers_and_unknown_fields_stay_as_they_were() -> None:
    result = strategic_merge(_deployment(), _containers(app="app:2"), DEPLOYMENT)
    pod = _pod(result)
    assert pod["containers"][1] == {"name": "envoy", "image": "envoy:1", "args": ["--x"]}
    assert pod["initContainers"] == [{"name": "migrate", "image": "app:1", "args": ["up"]}]
    assert pod["containers"][0]["futureField"] == {"kept": True}
    assert pod["containers"][0]["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]


def test_an_unknown_container_name_is_appended_as_the_server_does() -> None:
    # The server appends; refusing unknown names is the client's job (the deploy stage).
    result = strategic_merge(_deployment(), _containers(worker="w:1"), DEPLOYMENT)
    assert [c["name"] for c in _pod(result)["containers"]] == ["app", "envoy", "worker"]


def test_a_json_merge_patch_replaces_the_whole_container_list() -> None:
    result = merge_patch(_deployment(), _containers(app="app:2"))
    assert _pod(result)["containers"] == [{"name": "app", "image": "app:2"}]


@pytest.mark.parametrize(
    ("patch", "check"),
    [
        pytest.param(
            {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "app",
                                    "env": [
                                        {"name": "B", "value": "3"},
                                        {"name": "C", "value": "4"},
                                    ],
                                }
                            ]
                        }
                    }
                }
            },
            lambda pod: (
                pod["containers"][0]["env"]
                == [
                    {"name": "A", "value": "1"},
                    {"name": "B", "value": "3"},
                    {"name": "C", "value": "4"},
                ]
            ),
            id="env merges by name",
        ),
        pytest.param(
            {
                "spec": {
                    "template": {"spec": {"containers": [{"name": "envoy", "$patch": "delete"}]}}
                }
            },
            lambda pod: [c["name"] for c in pod["containers"]] == ["app"],
            id="$patch delete removes one item",
        ),
        pytest.param(
            {
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [{"$patch": "replace"}, {"name": "solo", "image": "s:1"}]
                        }
                    }
                }
            },
            lambda pod: pod["containers"] == [{"name": "solo", "image": "s:1"}],
            id="$patch replace replaces the list",
        ),
        pytest.param(
            {"spec": {"template": {"spec": {"tolerations": [{"key": "c"}]}}}},
            lambda pod: pod["tolerations"] == [{"key": "c"}],
            id="a list without a merge key is replaced",
        ),
        pytest.param(
            {
                "spec": {
                    "template": {
                        "spec": {"containers": [{"name": "app", "args": None}], "volumes": None}
                    }
                }
            },
            lambda pod: "volumes" not in pod and "args" not in pod["containers"][0],
            id="null deletes a key",
        ),
        pytest.param(
            {
                "spec": {
                    "template": {
                        "spec": {
                            "$setElementOrder/containers": [{"name": "envoy"}, {"name": "app"}],
                            "containers": [{"name": "app", "image": "app:3"}],
                        }
                    }
                }
            },
            lambda pod: (
                [(c["name"], c["image"]) for c in pod["containers"]]
                == [("envoy", "envoy:1"), ("app", "app:3")]
            ),
            id="$setElementOrder orders the merged list",
        ),
        pytest.param(
            {
                "spec": {
                    "template": {
                        "spec": {
                            "volumes": [
                                {"name": "cfg", "emptyDir": {}, "$retainKeys": ["name", "emptyDir"]}
                            ]
                        }
                    }
                }
            },
            lambda pod: pod["volumes"] == [{"name": "cfg", "emptyDir": {}}],
            id="$retainKeys drops the other keys of a volume",
        ),
        pytest.param(
            {
                "spec": {
                    "template": {
                        "spec": {"containers": [{"name": "app", "ports": [{"containerPort": 443}]}]}
                    }
                }
            },
            lambda pod: (
                pod["containers"][0]["ports"] == [{"containerPort": 80}, {"containerPort": 443}]
            ),
            id="ports merge by containerPort",
        ),
    ],
)
def test_strategic_merge_directives(patch: dict[str, Any], check: Any) -> None:
    assert check(_pod(strategic_merge(_deployment(), patch, DEPLOYMENT)))


def test_retain_keys_on_the_strategy_switches_to_recreate() -> None:
    patch = {
        "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None}}
    }
    assert strategic_merge(_deployment(), patch, DEPLOYMENT)["spec"]["strategy"] == {
        "type": "Recreate"
    }


def test_primitive_merge_lists_union_and_delete() -> None:
    added = strategic_merge(_deployment(), {"metadata": {"finalizers": ["b", "a"]}}, DEPLOYMENT)
    assert added["metadata"]["finalizers"] == ["a", "b"]
    removed = strategic_merge(
        added, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}, DEPLOYMENT
    )
    assert removed["metadata"]["finalizers"] == ["b"]


def test_a_map_level_replace_and_delete() -> None:
    replaced = strategic_merge(
        _deployment(), {"metadata": {"labels": {"$patch": "replace", "tier": "web"}}}, DEPLOYMENT
    )
    assert replaced["metadata"]["labels"] == {"tier": "web"}
    deleted = strategic_merge(
        _deployment(), {"spec": {"strategy": {"$patch": "delete"}}}, DEPLOYMENT
    )
    assert "strategy" not in deleted["spec"]


@pytest.mark.parametrize(
    "patch",
    [
        {"spec": {"template": {"spec": {"containers": [{"image": "no-name:1"}]}}}},
        {"spec": {"$patch": "explode"}},
    ],
)
def test_bad_strategic_patches_are_errors(patch: dict[str, Any]) -> None:
    with pytest.raises(PatchError):
        strategic_merge(_deployment(), patch, DEPLOYMENT)


# -- RFC 7386 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "patch", "result"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "foo"}, "bar", "bar"),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
)
def test_json_merge_patch_rfc7386_examples(original: Any, patch: Any, result: Any) -> None:
    assert merge_patch(original, patch) == result


# -- RFC 6902 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ops", "result"),
    [
        ([{"op": "add", "path": "/b", "value": 2}], {"a": [1, 2], "b": 2, "m": {"x~/": 1}}),
        ([{"op": "add", "path": "/a/1", "value": 9}], {"a": [1, 9, 2], "m": {"x~/": 1}}),
        ([{"op": "add", "path": "/a/-", "value": 3}], {"a": [1, 2, 3], "m": {"x~/": 1}}),
        ([{"op": "remove", "path": "/a/0"}], {"a": [2], "m": {"x~/": 1}}),
        ([{"op": "replace", "path": "/m/x~0~1", "value": 5}], {"a": [1, 2], "m": {"x~/": 5}}),
        ([{"op": "move", "from": "/a", "path": "/b"}], {"b": [1, 2], "m": {"x~/": 1}}),
        ([{"op": "copy", "from": "/a/1", "path": "/c"}], {"a": [1, 2], "c": 2, "m": {"x~/": 1}}),
        ([{"op": "test", "path": "/a/0", "value": 1}], {"a": [1, 2], "m": {"x~/": 1}}),
        ([{"op": "replace", "path": "", "value": {"z": 1}}], {"z": 1}),
    ],
)
def test_json_patch_operations(ops: list[dict[str, Any]], result: Any) -> None:
    original = {"a": [1, 2], "m": {"x~/": 1}}
    before = copy.deepcopy(original)
    assert json_patch(original, ops) == result
    assert original == before


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "replace", "path": "/missing", "value": 1}],
        [{"op": "remove", "path": "/a/5"}],
        [{"op": "test", "path": "/a/0", "value": 2}],
        [{"op": "add", "path": "/a/01", "value": 2}],
        [{"op": "move", "from": "/m", "path": "/m/inside"}],
        [{"op": "frobnicate", "path": "/a"}],
        [{"path": "/a"}],
        {"op": "add"},
    ],
)
def test_json_patch_failures_are_errors(ops: Any) -> None:
    with pytest.raises(PatchError):
        json_patch({"a": [1, 2], "m": {}}, ops)


def test_a_failing_json_patch_changes_nothing() -> None:
    original = {"a": 1}
    with pytest.raises(PatchError):
        json_patch(
            original, [{"op": "add", "path": "/b", "value": 2}, {"op": "remove", "path": "/c"}]
        )
    assert original == {"a": 1}
