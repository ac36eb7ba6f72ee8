"""docker/metadata-action's output shapes from `pipeline tags`, pure.

Users who keep build-push-action can adopt our tag rules first: its `tags:` input
takes `image:tag` lines, `labels:` takes `key=value` lines and `annotations:`
takes `manifest:key=value` lines, exactly what metadata-action's outputs hold.
The input is the document `Plan.tags_json()` returns, so these shapes can never
disagree with `tags --json`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.errors import UsageError

#: metadata-action's default annotation level (DOCKER_METADATA_ANNOTATIONS_LEVELS).
ANNOTATION_LEVEL = "manifest"
#: The step outputs written with `--format metadata-action`, in this order.
OUTPUT_NAMES = ("tags", "labels", "annotations", "version", "json")


def refs(image: Mapping[str, Any]) -> list[str]:
    """`image:tag` for each tag, in rule order (metadata-action's `tags` output)."""
    return [f"{image['image']}:{tag}" for tag in image.get("tags") or []]


def _label_pairs(image: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for key, value in (image.get("labels") or {}).items():
        text = str(value)
        if "\n" in key or "\n" in text or "\r" in key or "\r" in text:
            # One line per label is the shape: a line break would start a bogus label.
            raise UsageError(
                f"image {image['name']}: label {key.splitlines()[0]!r} spans several lines,"
                " which key=value lines cannot carry; use `pipeline tags --json`"
            )
        pairs.append((key, text))
    return pairs


def shapes(image: Mapping[str, Any]) -> dict[str, str]:
    """One image's `tags`, `labels` and `annotations` as metadata-action prints them."""
    pairs = _label_pairs(image)
    return {
        "tags": "\n".join(refs(image)),
        "labels": "\n".join(f"{k}={v}" for k, v in pairs),
        "annotations": "\n".join(f"{ANNOTATION_LEVEL}:{k}={v}" for k, v in pairs),
    }


def with_shapes(document: Mapping[str, Any]) -> dict[str, Any]:
    """`tags --json` with each image's metadata-action shapes beside its own fields."""
    images = [{**image, "metadata_action": shapes(image)} for image in document["images"]]
    return {**document, "images": images}


def _one(images: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    if len(images) != 1:
        names = ", ".join(str(i["name"]) for i in images) or "none"
        raise UsageError(
            "--format metadata-action describes one image, as metadata-action does;"
            f" name it with --image (images: {names})"
        )
    return images[0]


def outputs(document: Mapping[str, Any]) -> dict[str, str]:
    """metadata-action's step outputs for the one image of a `tags --json` document."""
    image = _one(document["images"])
    out = shapes(image)
    labels = dict(_label_pairs(image))
    annotations = out["annotations"].split("\n") if out["annotations"] else []
    body = {"tags": refs(image), "labels": labels, "annotations": annotations}
    return {
        "tags": out["tags"],
        "labels": out["labels"],
        "annotations": out["annotations"],
        "version": str(image.get("version") or ""),
        "json": json.dumps(body, separators=(",", ":")),
    }


def text(values: Mapping[str, str]) -> str:
    """What a person reads on stdout: each output under its name."""
    blocks = [f"{name}:\n{values[name]}" if values[name] else f"{name}:" for name in OUTPUT_NAMES]
    return "\n\n".join(blocks)
