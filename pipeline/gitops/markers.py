"""Flux image-automation setter markers: `# {"$imagepolicy": "NAMESPACE:POLICY[:FIELD]"}`.

A marker names the field on its own line. Without a field suffix the value is
a whole reference; `:tag` is only the tag, `:name` only the repository,
`:digest` only the digest. Markers name Flux ImagePolicies, which this
pipeline does not have, so a policy is taken to mean this image when one of
its whole-reference or `:name` fields already names this image's repository,
or when the policy's name is the image's name or the repository's last part
(`flux-system:backend` for `myapp/backend`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from pipeline import imageref
from pipeline.gitops import spans
from pipeline.gitops.target import NewImage

_MARKER = re.compile(r"#\s*(\{\s*\"\$imagepolicy\"\s*:\s*\"[^\"]*\"\s*\})")
FIELDS = ("tag", "name", "digest")


@dataclass(frozen=True)
class Marker:
    line: int  # 0-based
    column: int  # where the comment starts
    policy: str  # "namespace:name"
    field: str | None  # None: the whole reference


def find(text: str) -> list[Marker]:
    found = []
    for number, line in enumerate(text.splitlines()):
        match = _MARKER.search(line)
        if not match:
            continue
        try:
            value = json.loads(match.group(1))["$imagepolicy"]
        except (ValueError, KeyError):
            continue
        parts = str(value).split(":")
        field = parts[-1] if len(parts) == 3 and parts[-1] in FIELDS else None
        policy = ":".join(parts[:2])
        found.append(Marker(number, match.start(), policy, field))
    return found


def _fields(docs: list[Any], markers: list[Marker]) -> list[tuple[Marker, Any]]:
    """Each marker with the scalar it sets: the last value on its line before the comment."""
    by_line: dict[int, Marker] = {m.line: m for m in markers}
    chosen: dict[int, Any] = {}
    for doc in docs:
        for node in spans.walk(doc):
            for value in _values(node):
                marker = by_line.get(value.start_mark.line)
                if marker is None or value.end_mark.column > marker.column:
                    continue
                best = chosen.get(marker.line)
                if best is None or value.start_mark.index > best.start_mark.index:
                    chosen[marker.line] = value
    return [(by_line[line], node) for line, node in sorted(chosen.items())]


def _values(node: Any) -> list[Any]:
    """The scalar values (not keys) directly held by a mapping or sequence."""
    if spans.kind(node) == "MappingNode":
        return [v for _, v in node.value if spans.is_scalar(v)]
    if spans.kind(node) == "SequenceNode":
        return [v for v in node.value if spans.is_scalar(v)]
    return []


def _ours(policy: str, fields: list[tuple[Marker, Any]], image: NewImage) -> bool:
    name = policy.rsplit(":", maxsplit=1)[-1]
    if name in (image.name, image.repository.rsplit("/", 1)[-1]):
        return True
    for marker, node in fields:
        value = str(node.value)
        if marker.field == "name" and image.names(value):
            return True
        ref = imageref.parse(value) if marker.field is None else None
        if ref is not None and image.names(ref.repository):
            return True
    return False


def edits(
    text: str, docs: list[Any], image: NewImage, where: str
) -> tuple[list[spans.Edit], list[str | None]] | None:
    """The edits the file's markers ask for, and what each of this image's policies held.

    The second list has one entry per policy of this image (none: the file has no
    marker of it): the whole reference its fields spelt, or None when they spelt only
    a part. None when the file has no markers at all.
    """
    markers = find(text)
    if not markers:
        return None
    groups: dict[str, list[tuple[Marker, Any]]] = defaultdict(list)
    for marker, node in _fields(docs, markers):
        groups[marker.policy].append((marker, node))
    out: list[spans.Edit] = []
    held: list[str | None] = []
    for policy, fields in groups.items():
        if not _ours(policy, fields, image):
            continue
        held.extend(_held(fields))
        for marker, node in fields:
            value = image.field(marker.field, f"{where}:{marker.line + 1}: ")
            edit = spans.replace(node, value)
            if edit:
                out.append(edit)
    return out, held


def _held(fields: list[tuple[Marker, Any]]) -> list[str | None]:
    """The whole references a policy's fields spell: whole ones, or name with tag/digest."""
    parts = {m.field: str(node.value) for m, node in fields if m.field is not None}
    whole: list[str | None] = [str(node.value) for m, node in fields if m.field is None]
    name = parts.get("name")
    if name and parts.get("digest"):
        whole.append(f"{name}@{parts['digest']}")
    elif name and parts.get("tag"):
        whole.append(f"{name}:{parts['tag']}")
    return whole or [None]
