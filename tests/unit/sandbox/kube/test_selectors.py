"""Label and field selectors as kubectl and client libraries send them."""

from __future__ import annotations

import pytest

from pipeline.sandbox.kube import selectors
from pipeline.sandbox.kube.status import ApiError

LABELS = {"app": "web", "tier": "front", "pod-template-hash": "abc"}


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("", True),
        ("app=web", True),
        ("app==web,tier=front", True),
        ("app=web,tier=back", False),
        ("app!=web", False),
        ("tier in (front, back)", True),
        ("tier notin (front)", False),
        ("app,!missing", True),
        ("!app", False),
        ("app in (web),tier", True),
    ],
)
def test_label_selectors(text: str, matches: bool) -> None:
    assert selectors.labels(text)(LABELS) is matches


def test_a_label_selector_that_does_not_parse_is_a_bad_request() -> None:
    with pytest.raises(ApiError) as err:
        selectors.labels("app in web)")
    assert err.value.code == 400


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchLabels": {"app": "api"}}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}, False),
        ({"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "x", "operator": "Exists"}]}, False),
    ],
)
def test_label_selector_objects(selector: dict[str, object], matches: bool) -> None:
    assert selectors.matches_selector(selector, LABELS) is matches


def test_field_selectors_on_name_and_namespace() -> None:
    obj = {"metadata": {"name": "web", "namespace": "prod"}}
    assert selectors.fields("metadata.name=web")(obj)
    assert not selectors.fields("metadata.name=api")(obj)
    assert selectors.fields("metadata.namespace!=dev,metadata.name==web")(obj)
    with pytest.raises(ApiError):
        selectors.fields("spec.replicas=1")
