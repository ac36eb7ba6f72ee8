"""The JSON Schema of the config, for editors (yaml-language-server).

pydantic writes the schema of the models; the loader is more lenient than that
schema in ways a schema can still express, and an editor must never mark red a
file that `pipeline validate` accepts. So the schema is widened, leaf by leaf:

- wherever a value may be a string, `${VAR}` may stand instead (interpolation
  happens before validation, so `account: "${AWS_ACCOUNT_ID:-123456789012}"`
  and `critical: ${MAX_CRITICAL:-0}` are valid);
- words read in any case (`x-case-insensitive`: severities, enums) match in any case;
- numbers and booleans also take the strings the models accept (`"10"`, `"yes"`).

What a schema can refuse stays refused: unknown keys, wrong types, unknown words.
"""

from __future__ import annotations

import re
from typing import Any

from pipeline.config.schema import Config
from pipeline.config.types import CASE_INSENSITIVE

#: A string that interpolates a variable: the value is known only at load time.
INTERPOLATED: dict[str, Any] = {"type": "string", "pattern": r"\$\{"}
_INT_TEXT = {"type": "string", "pattern": r"^\s*[+-]?[0-9][0-9_]*(\.0*)?\s*$"}
_BOOL_WORDS = ("true", "false", "yes", "no", "on", "off", "t", "f", "y", "n", "1", "0")
#: Keys that say what a leaf is, and stay with it; the rest (title, default...) stay outside.
_CONSTRAINTS = {
    "type",
    "enum",
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    CASE_INSENSITIVE,
}


def any_case(word: str) -> str:
    """A regular expression (ECMA 262: no inline flags) matching `word` in any case."""
    return "".join(
        f"[{c.upper()}{c.lower()}]" if c.lower() != c.upper() else re.escape(c) for c in word
    )


def _words(words: list[Any]) -> dict[str, Any]:
    return {"type": "string", "pattern": "^(?:" + "|".join(any_case(str(w)) for w in words) + ")$"}


def _alternatives(leaf: dict[str, Any], *, interpolated: bool) -> list[dict[str, Any]]:
    """Schemas for what the loader also accepts in place of `leaf`."""
    out: list[dict[str, Any]] = []
    kind = leaf.get("type")
    if "enum" in leaf and leaf.pop(CASE_INSENSITIVE, False):
        out.append(_words(leaf["enum"]))
    elif kind == "integer":
        out.append(dict(_INT_TEXT))
    elif kind == "boolean":
        out += [{"enum": [0, 1]}, _words(list(_BOOL_WORDS))]
    # a plain string already matches `${...}`; anything narrower needs the alternative
    if interpolated and not (kind == "string" and set(leaf) == {"type"}):
        out.append(dict(INTERPOLATED))
    return out


def _widen(node: Any, *, key_schema: bool = False) -> Any:
    if isinstance(node, list):
        return [_widen(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {
        k: _widen(v, key_schema=(k == "propertyNames"))
        if k not in ("enum", "const", "default", "examples")
        else v
        for k, v in node.items()
    }
    is_leaf = "const" not in node and (
        "enum" in node or node.get("type") in ("string", "integer", "number", "boolean")
    )
    if not is_leaf:
        return node
    leaf = {k: v for k, v in node.items() if k in _CONSTRAINTS}
    rest = {k: v for k, v in node.items() if k not in _CONSTRAINTS}
    # mapping keys are never interpolated: only the values of a file are
    extra = _alternatives(leaf, interpolated=not key_schema)
    if not extra:
        return node
    return {**rest, "anyOf": [leaf, *extra]}


def schema() -> dict[str, Any]:
    body = Config.model_json_schema(mode="validation")
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://pipeline.local/schema/v1.json",
    }
    out.update(_widen(body))
    out["title"] = "pipeline.yaml (version 1)"
    return out
