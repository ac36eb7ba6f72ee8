"""Decoding a request body as a real API server does: scalar types always, unknown
and duplicate fields as `fieldValidation` asks.

A real server decodes into Go structs, so an unknown field is never stored:
Strict rejects it (400), Warn (the default) drops it with a `Warning` header,
Ignore drops it silently. A value of the wrong JSON type fails in every mode.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pipeline.sandbox.kube.schema import Schema

MODES = ("Strict", "Warn", "Ignore")

_GO_TYPES = {
    "string": "string",
    "integer": "int32",
    "boolean": "bool",
    "number": "float64",
    "int-or-string": "IntOrString",
    "quantity": "Quantity",
    "time": "Time",
    "map": "map[string]string",
    "array": "slice",
    "object": "object",
}


@dataclass
class Decoded:
    value: Any
    unknown: list[str] = field(default_factory=list)  # dotted paths, as the server names them
    duplicates: list[str] = field(default_factory=list)
    type_errors: list[str] = field(default_factory=list)


class BodyError(ValueError):
    """The body is not JSON (or not an object)."""


def parse(body: bytes) -> tuple[Any, list[str]]:
    """The JSON value and the keys that appeared twice in one object."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    try:
        return json.loads(body or b"null", object_pairs_hook=pairs), duplicates
    except (ValueError, UnicodeDecodeError) as err:
        raise BodyError(f"the body is not valid JSON: {err}") from None


def decode(value: Any, schema: Schema) -> Decoded:
    """value with unknown fields and nulls dropped, and what was found on the way."""
    result = Decoded(None)
    result.value = _walk(value, schema, "", result)
    return result


def _walk(value: Any, schema: Schema, path: str, found: Decoded) -> Any:
    if value is None:
        return None
    kind = schema.type
    if kind == "any" or (kind == "object" and schema.fields is None and isinstance(value, dict)):
        return value
    if not _fits(value, kind):
        found.type_errors.append(
            f"json: cannot unmarshal {_json_type(value)} into Go struct field "
            f"{path or '<root>'} of type {_GO_TYPES.get(kind, kind)}"
        )
        return None
    if kind == "object":
        known = schema.fields or {}
        kept: dict[str, Any] = {}
        for key, item in value.items():
            child = known.get(key)
            where = f"{path}.{key}" if path else key
            if child is None:
                found.unknown.append(where)
                continue
            decoded = _walk(item, child, where, found)
            if decoded is not None:
                kept[key] = decoded
        return kept
    if kind == "map":
        assert schema.items is not None
        return {
            key: _walk(item, schema.items, f"{path}.{key}" if path else key, found)
            for key, item in value.items()
            if item is not None
        }
    if kind == "array":
        assert schema.items is not None
        items = [_walk(item, schema.items, f"{path}[{i}]", found) for i, item in enumerate(value)]
        return [item for item in items if item is not None]
    return value


def _fits(value: Any, kind: str) -> bool:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    checks = {
        "string": isinstance(value, str),
        "time": isinstance(value, str),
        "integer": is_int,
        "boolean": isinstance(value, bool),
        "number": is_int or isinstance(value, float),
        "int-or-string": is_int or isinstance(value, str),
        "quantity": is_int or isinstance(value, (float, str)),
        "object": isinstance(value, dict),
        "map": isinstance(value, dict),
        "array": isinstance(value, list),
    }
    return checks.get(kind, True)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
