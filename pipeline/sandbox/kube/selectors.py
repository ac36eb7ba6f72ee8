"""Label and field selectors as list and watch requests send them.

Label selectors: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`,
joined by commas. Field selectors: `metadata.name=x`, `metadata.namespace!=y`
(what `kubectl rollout status` and `kubectl delete --wait` send).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pipeline.sandbox.kube.status import bad_request

Match = Callable[[Mapping[str, str]], bool]

_SET = re.compile(r"^\s*([^\s!=,()]+)\s+(in|notin)\s+\(([^()]*)\)\s*$")
_EQ = re.compile(r"^\s*([^\s!=,()]+)\s*(==|=|!=)\s*([^\s!=,()]*)\s*$")
_EXISTS = re.compile(r"^\s*(!?)\s*([^\s!=,()]+)\s*$")


def labels(text: str | None) -> Match:
    """A predicate over an object's labels."""
    if not text:
        return lambda _: True
    tests = [_requirement(part) for part in _split(text)]
    return lambda found: all(test(found) for test in tests)


def matches_selector(selector: Mapping[str, Any], found: Mapping[str, str]) -> bool:
    """A LabelSelector object (matchLabels, matchExpressions) against labels."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if found.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        present = key in found
        if op == "In" and not (present and found[key] in values):
            return False
        if op == "NotIn" and present and found[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def fields(text: str | None) -> Callable[[Mapping[str, Any]], bool]:
    """A predicate over an object, for the fields the emulation can select on."""
    if not text:
        return lambda _: True
    tests: list[Callable[[Mapping[str, Any]], bool]] = []
    for part in text.split(","):
        found = re.match(r"^\s*([\w.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not found or found.group(1) not in ("metadata.name", "metadata.namespace"):
            raise bad_request(
                f'"{part}" is not a known field selector: only "metadata.name", '
                '"metadata.namespace"'
            )
        path, op, value = found.groups()
        attribute = path.split(".")[1]

        def test(obj: Mapping[str, Any], a: str = attribute, o: str = op, v: str = value) -> bool:
            actual = (obj.get("metadata") or {}).get(a)
            return (actual == v) == (o != "!=")

        tests.append(test)
    return lambda obj: all(t(obj) for t in tests)


def _split(text: str) -> list[str]:
    """Commas separate requirements, except inside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def _requirement(part: str) -> Match:
    found = _SET.match(part)
    if found:
        key, op, raw = found.groups()
        values = {v.strip() for v in raw.split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    found = _EQ.match(part)
    if found:
        key, op, value = found.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    found = _EXISTS.match(part)
    if found:
        negate, key = found.groups()
        return lambda labels: (key in labels) != bool(negate)
    raise bad_request(f"unable to parse requirement: {part.strip()!r}")
