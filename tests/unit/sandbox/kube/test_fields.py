"""Decoding bodies: unknown fields found and dropped, wrong types refused, duplicates seen."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.sandbox.kube.fields import BodyError, decode, parse
from pipeline.sandbox.kube.schema import DEPLOYMENT


def _body(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"}, "spec": spec}


def test_unknown_fields_are_named_by_path_and_dropped() -> None:
    body = _body(
        replicas=1,
        replica=2,
        template={"spec": {"containers": [{"name": "a", "image": "i", "imagee": "x"}]}},
    )
    found = decode(body, DEPLOYMENT)
    assert found.unknown == ["spec.replica", "spec.template.spec.containers[0].imagee"]
    assert found.value["spec"] == {
        "replicas": 1,
        "template": {"spec": {"containers": [{"name": "a", "image": "i"}]}},
    }


def test_open_objects_take_any_keys() -> None:
    probe = {"httpGet": {"path": "/", "port": "http", "anything": [1]}, "periodSeconds": 5}
    pod = {
        "containers": [{"name": "a", "image": "i", "livenessProbe": probe}],
        "affinity": {"x": 1},
    }
    found = decode(_body(template={"spec": pod}), DEPLOYMENT)
    assert found.unknown == [] and found.type_errors == []
    assert found.value["spec"]["template"]["spec"] == pod


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        ({"replicas": "2"}, "spec.replicas"),
        ({"replicas": True}, "spec.replicas"),
        ({"replicas": 1.5}, "spec.replicas"),
        ({"paused": "yes"}, "spec.paused"),
        ({"template": {"metadata": {"labels": {"a": 1}}}}, "spec.template.metadata.labels.a"),
        ({"template": {"spec": {"containers": {"name": "a"}}}}, "spec.template.spec.containers"),
    ],
)
def test_wrong_types_are_reported(spec: dict[str, Any], where: str) -> None:
    errors = decode(_body(**spec), DEPLOYMENT).type_errors
    assert len(errors) == 1 and where in errors[0]


def test_int_or_string_and_quantities_take_both() -> None:
    spec = {
        "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
        "template": {
            "spec": {
                "containers": [{"name": "a", "resources": {"limits": {"cpu": 1, "memory": "1Gi"}}}]
            }
        },
    }
    assert decode(_body(**spec), DEPLOYMENT).type_errors == []


def test_nulls_are_dropped_like_zero_values() -> None:
    assert "replicas" not in decode(_body(replicas=None), DEPLOYMENT).value["spec"]


def test_parse_reports_duplicate_keys_and_bad_json() -> None:
    value, duplicates = parse(b'{"a": 1, "b": {"c": 1, "c": 2}, "a": 3}')
    assert value == {"a": 3, "b": {"c": 2}}
    assert sorted(duplicates) == ["a", "c"]
    with pytest.raises(BodyError):
        parse(b"{not json")
