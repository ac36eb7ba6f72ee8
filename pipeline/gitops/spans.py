"""YAML nodes with their exact place in the text, and edits spliced into that text.

ruamel.yaml's composer gives every node its start and end offset. Edits are
made to the original characters at those offsets, so everything that is not
edited (comments, blank lines, indentation, key order, quoting, document
markers) stays byte for byte as it was; a round-trip dump would re-indent
sequences and re-wrap long lines.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.deployment import DeployError

STR_TAG = "tag:yaml.org,2002:str"
# Characters that would change how a plain scalar reads, at its start or inside it.
_PROPERTIES = re.compile(r"(?:[&!][^\s]*\s+)*")
_PLAIN_UNSAFE = re.compile(r"^[-?:,\[\]{}#&*!|>'\"%@`\s]|: |\s#|[\s:]$|[\n\r\t]")


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str
    was: str | None = None  # the value replaced, for the report


def compose(text: str, where: str) -> list[Any]:
    """The documents of a (multi-document) YAML text, as ruamel nodes with marks."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return [doc for doc in YAML(typ="rt").compose_all(text) if doc is not None]
    except YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise DeployError(f"{where}{at}: {problem}") from err


def kind(node: Any) -> str:
    return type(node).__name__  # ScalarNode, MappingNode, SequenceNode


def is_scalar(node: Any) -> bool:
    return kind(node) == "ScalarNode"


def pairs(node: Any) -> list[tuple[Any, Any]]:
    return list(node.value) if kind(node) == "MappingNode" else []


def get(node: Any, key: str) -> Any | None:
    for k, v in pairs(node):
        if is_scalar(k) and k.value == key:
            return v
    return None


def text_of(node: Any) -> str | None:
    return str(node.value) if node is not None and is_scalar(node) else None


def walk(node: Any) -> Iterator[Any]:
    """Every node below and including `node`, each once (aliases share their anchor's node)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if kind(current) == "MappingNode":
            for k, v in reversed(current.value):
                stack.extend((v, k))
        elif kind(current) == "SequenceNode":
            stack.extend(reversed(current.value))


def _plain_ok(value: str) -> bool:
    from ruamel.yaml.nodes import ScalarNode
    from ruamel.yaml.resolver import VersionedResolver

    if not value or _PLAIN_UNSAFE.search(value):
        return False
    return bool(VersionedResolver().resolve(ScalarNode, value, (True, False)) == STR_TAG)


def render(value: str, style: str | None) -> str:
    """`value` as a scalar in the same quoting style as the one it replaces."""
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style is None and _plain_ok(value):
        return value
    # Double quotes for double-quoted originals, block scalars, and plain ones whose new value
    # would read as something else (a number such as 1.10, true, null).
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def replace(node: Any, value: str) -> Edit | None:
    """Set a scalar's value, keeping its quoting; None when it already has that value."""
    if str(node.value) == value:
        return None
    return Edit(
        node.start_mark.index, node.end_mark.index, render(value, node.style), str(node.value)
    )


def _value_start(text: str, edit: Edit) -> Edit:
    """A node's span starts at its anchor or tag (`&img`, `!!str`); keep those."""
    props = _PROPERTIES.match(text, edit.start, edit.end)
    if props is None or not props.group(0) or edit.start == edit.end:
        return edit
    return Edit(props.end(), edit.end, edit.text, edit.was)


def apply(text: str, edits: list[Edit]) -> str:
    unique = sorted({_value_start(text, e) for e in edits}, key=lambda e: (e.start, e.end))
    for before, after in itertools.pairwise(unique):
        if after.start < before.end:
            raise AssertionError(f"overlapping edits {before} and {after}")
    for edit in reversed(unique):
        text = text[: edit.start] + edit.text + text[edit.end :]
    return text
