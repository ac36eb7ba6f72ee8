"""The three PATCH bodies an API server takes, applied to plain JSON values.

- strategic merge (application/strategic-merge-patch+json): maps merge, null
  deletes a key, and a list merges by its schema's merge key (containers by
  `name`), so a patch naming one container leaves the others alone; lists
  without a merge key are replaced. The directives kubectl sends are honoured:
  `$patch` (replace, delete, merge), `$retainKeys`, `$setElementOrder/<list>`
  and `$deleteFromPrimitiveList/<list>`.
- JSON merge patch (RFC 7386): maps merge, every list is replaced whole.
- JSON patch (RFC 6902): add, remove, replace, move, copy, test.

Pure functions; a patch that cannot apply raises PatchError, which the API
answers with 422 as a real server does.
"""

from __future__ import annotations

import copy
from typing import Any

from pipeline.sandbox.kube.schema import Schema

_PATCH = "$patch"
_RETAIN = "$retainKeys"
_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"


class PatchError(ValueError):
    """The patch is malformed or does not apply to the object."""


# -- strategic merge -------------------------------------------------------------


def strategic_merge(original: Any, patch: Any, schema: Schema | None) -> Any:
    """original with the strategic-merge patch applied; neither argument is changed."""
    if not isinstance(patch, dict):
        raise PatchError("a strategic merge patch must be a JSON object")
    base = copy.deepcopy(original) if isinstance(original, dict) else {}
    return _merge_map(base, copy.deepcopy(patch), schema)


def _merge_map(original: dict[str, Any], patch: dict[str, Any], schema: Schema | None) -> Any:
    directive = patch.pop(_PATCH, None)
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return None
    if directive not in (None, "merge"):
        raise PatchError(f"unknown patch directive {_PATCH}: {directive!r}")
    retain = patch.pop(_RETAIN, None)
    orders = _directives(patch, _ORDER)
    removals = _directives(patch, _DELETE_PRIMITIVE)
    for key, value in patch.items():
        _merge_key(original, key, value, schema.field(key) if schema is not None else None)
    for key, values in removals.items():
        if isinstance(original.get(key), list):
            original[key] = [v for v in original[key] if v not in values]
    for key, order in orders.items():
        if isinstance(original.get(key), list):
            child = schema.field(key) if schema is not None else None
            original[key] = _reorder(original[key], order, child.merge_key if child else None)
    if retain is not None:
        if not isinstance(retain, list):
            raise PatchError(f"{_RETAIN} must be a list")
        for key in [k for k in original if k not in retain]:
            del original[key]
    return original


def _merge_key(original: dict[str, Any], key: str, value: Any, schema: Schema | None) -> None:
    if isinstance(value, dict):
        current = original.get(key)
        value = _merge_map(current if isinstance(current, dict) else {}, value, schema)
    elif isinstance(value, list):
        value = _merge_list(original.get(key), value, schema)
    if value is None:  # null, or `$patch: delete`
        original.pop(key, None)
    else:
        original[key] = value


def _directives(patch: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Takes the `<prefix><field>` keys out of patch: {field: value}."""
    return {k[len(prefix) :]: patch.pop(k) for k in list(patch) if k.startswith(prefix)}


def _merge_list(original: Any, patch: list[Any], schema: Schema | None) -> list[Any]:
    current = original if isinstance(original, list) else []
    strategy = (schema.strategy or "") if schema is not None else ""
    if "merge" not in strategy.split(","):
        return [_strip(item) for item in patch if not _is_directive(item)]
    if any(_is_directive(item, "replace") for item in patch):
        return [_strip(item) for item in patch if not _is_directive(item)]
    key = schema.merge_key if schema is not None else None
    if key is None:  # a list of scalars that merges: a union, in order
        return current + [v for v in patch if v not in current]
    merged = list(current)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise PatchError(f"map: {item!r} does not contain declared merge key: {key}")
        at = next(
            (
                i
                for i, old in enumerate(merged)
                if isinstance(old, dict) and old.get(key) == item[key]
            ),
            None,
        )
        if item.get(_PATCH) == "delete":
            if at is not None:
                del merged[at]
            continue
        if at is None:
            result = _merge_map({}, item, schema.items if schema else None)
            if result is not None:
                merged.append(result)
        else:
            result = _merge_map(merged[at], item, schema.items if schema else None)
            if result is None:
                del merged[at]
            else:
                merged[at] = result
    return merged


def _reorder(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    """Items named in order come in that order; the others keep their place after their
    predecessor (what kubectl's $setElementOrder asks of the server)."""

    def ident(item: Any) -> Any:
        return item.get(key) if key is not None and isinstance(item, dict) else item

    wanted = [ident(o) for o in order]
    ordered = [i for w in wanted for i in items if ident(i) == w]
    rest = [i for i in items if ident(i) not in wanted]
    for item in rest:
        before = items[: items.index(item)]
        anchor = next((b for b in reversed(before) if b in ordered), None)
        ordered.insert(ordered.index(anchor) + 1 if anchor is not None else 0, item)
    return ordered


def _is_directive(item: Any, kind: str | None = None) -> bool:
    if not isinstance(item, dict) or _PATCH not in item:
        return False
    only = set(item) == {_PATCH}
    return only and (kind is None or item[_PATCH] == kind)


def _strip(value: Any) -> Any:
    """A value without any directive keys (for `$patch: replace`)."""
    if isinstance(value, dict):
        return {
            k: _strip(v)
            for k, v in value.items()
            if k not in (_PATCH, _RETAIN) and not k.startswith((_ORDER, _DELETE_PRIMITIVE))
        }
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


# -- JSON merge patch ----------------------------------------------------------------


def merge_patch(original: Any, patch: Any) -> Any:
    """RFC 7386: objects merge, null deletes, anything else (lists too) replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# -- JSON patch ------------------------------------------------------------------


def json_patch(original: Any, operations: Any) -> Any:
    """RFC 6902; the whole patch applies or nothing does."""
    if not isinstance(operations, list):
        raise PatchError("a JSON patch must be a list of operations")
    document = copy.deepcopy(original)
    for number, op in enumerate(operations):
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"operation {number}: needs `op` and `path`")
        try:
            document = _apply(document, op)
        except (KeyError, IndexError, TypeError, ValueError) as err:
            raise PatchError(f"operation {number} ({op['op']} {op['path']}): {err}") from None
    return document


def _apply(document: Any, op: dict[str, Any]) -> Any:
    kind, path = op["op"], _pointer(op["path"])
    if kind == "add":
        return _add(document, path, copy.deepcopy(_value(op)))
    if kind == "remove":
        return _remove(document, path)[0]
    if kind == "replace":
        value = copy.deepcopy(_value(op))
        if not path:
            return value
        document, _ = _remove(document, path)  # the target must exist
        return _add(document, path, value)
    if kind in ("move", "copy"):
        source = _pointer(op.get("from", ""))
        if "from" not in op:
            raise ValueError("needs `from`")
        if kind == "move":
            if path[: len(source)] == source and len(path) > len(source):
                raise ValueError("cannot move a value into itself")
            document, value = _remove(document, source)
        else:
            value = copy.deepcopy(_get(document, source))
        return _add(document, path, value)
    if kind == "test":
        if _get(document, path) != _value(op):
            raise ValueError("test failed: the value differs")
        return document
    raise ValueError(f"unknown op {kind!r}")


def _value(op: dict[str, Any]) -> Any:
    if "value" not in op:
        raise ValueError("needs `value`")
    return op["value"]


def _pointer(text: str) -> list[str]:
    if text == "":
        return []
    if not text.startswith("/"):
        raise ValueError(f"{text!r} is not a JSON pointer")
    return [part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/")]


def _index(container: list[Any], token: str, *, insert: bool = False) -> int:
    if insert and token == "-":  # noqa: S105 - the JSON pointer's append token
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise ValueError(f"{token!r} is not an array index")
    index = int(token)
    if index > len(container) or (index == len(container) and not insert):
        raise IndexError(f"index {index} is out of range")
    return index


def _get(document: Any, path: list[str]) -> Any:
    for token in path:
        if isinstance(document, list):
            document = document[_index(document, token)]
        elif isinstance(document, dict):
            document = document[token]
        else:
            raise KeyError(token)
    return document


def _add(document: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent = _get(document, path[:-1])
    last = path[-1]
    if isinstance(parent, list):
        parent.insert(_index(parent, last, insert=True), value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise KeyError(last)
    return document


def _remove(document: Any, path: list[str]) -> tuple[Any, Any]:
    if not path:
        raise ValueError("cannot remove the whole document")
    parent = _get(document, path[:-1])
    last = path[-1]
    if isinstance(parent, list):
        return document, parent.pop(_index(parent, last))
    if isinstance(parent, dict):
        return document, parent.pop(last)
    raise KeyError(last)
