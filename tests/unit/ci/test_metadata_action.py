"""metadata-action's shapes from a `tags --json` document (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.ci import metadata_action
from pipeline.errors import UsageError

OCI = "org.opencontainers.image."


def image(name: str = "backend", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "repository": f"acme/{name}",
        "image": f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/{name}",
        "tags": ["1.2.3", "1.2", "sha-abc1234", "latest"],
        "version": "1.2.3",
        "labels": {OCI + "version": "1.2.3", OCI + "revision": "a" * 40, "team": "pay"},
    }
    return {**base, **over}


def document(*images: dict[str, Any]) -> dict[str, Any]:
    return {"context": {"sha": "a" * 40}, "images": list(images)}


HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/backend"


def test_tags_are_image_tag_lines_in_rule_order() -> None:
    assert metadata_action.shapes(image())["tags"] == "\n".join(
        f"{HOST}:{t}" for t in ("1.2.3", "1.2", "sha-abc1234", "latest")
    )


def test_labels_are_key_value_lines_and_annotations_carry_the_manifest_level() -> None:
    got = metadata_action.shapes(image())
    assert got["labels"].split("\n") == [
        f"{OCI}version=1.2.3",
        f"{OCI}revision={'a' * 40}",
        "team=pay",
    ]
    assert got["annotations"].split("\n") == [f"manifest:{x}" for x in got["labels"].split("\n")]


def test_a_value_with_an_equals_sign_stays_whole() -> None:
    got = metadata_action.shapes(image(labels={"desc": "a=b c"}))
    assert got["labels"] == "desc=a=b c"


def test_no_tags_and_no_labels_are_empty_outputs() -> None:
    got = metadata_action.shapes(image(tags=[], labels={}))
    assert got == {"tags": "", "labels": "", "annotations": ""}


@pytest.mark.parametrize("value", ["two\nlines", "carriage\rreturn"])
def test_a_label_that_spans_lines_is_refused_not_split(value: str) -> None:
    with pytest.raises(UsageError, match="label 'desc' spans several lines"):
        metadata_action.shapes(image(labels={"desc": value}))


def test_outputs_hold_tags_labels_annotations_version_and_json() -> None:
    out = metadata_action.outputs(document(image()))
    assert tuple(out) == metadata_action.OUTPUT_NAMES
    assert out["version"] == "1.2.3"
    assert out["tags"].split("\n")[0] == f"{HOST}:1.2.3"
    body = json.loads(out["json"])
    assert body["tags"] == out["tags"].split("\n")
    assert body["labels"] == image()["labels"]
    assert body["annotations"] == out["annotations"].split("\n")


def test_outputs_of_an_image_without_tags_have_empty_lists_in_json() -> None:
    out = metadata_action.outputs(document(image(tags=[], labels={}, version=None)))
    assert out["version"] == ""
    assert json.loads(out["json"]) == {"tags": [], "labels": {}, "annotations": []}


@pytest.mark.parametrize("images", [(), (image("a"), image("b"))])
def test_outputs_describe_exactly_one_image(images: tuple[dict[str, Any], ...]) -> None:
    with pytest.raises(UsageError, match=r"describes one image.*--image"):
        metadata_action.outputs(document(*images))


def test_with_shapes_adds_the_lines_to_every_image_and_keeps_its_fields() -> None:
    doc = document(image("a"), image("b"))
    got = metadata_action.with_shapes(doc)
    assert got["context"] == doc["context"]
    for before, after in zip(doc["images"], got["images"], strict=True):
        assert {k: v for k, v in after.items() if k != "metadata_action"} == before
        assert after["metadata_action"] == metadata_action.shapes(before)
    assert "metadata_action" not in doc["images"][0]  # the input is not changed


def test_text_shows_each_output_under_its_name() -> None:
    text = metadata_action.text(metadata_action.outputs(document(image(labels={}))))
    assert text.startswith(f"tags:\n{HOST}:1.2.3\n")
    assert "\n\nlabels:\n\nannotations:\n\nversion:\n1.2.3\n\njson:\n{" in text
