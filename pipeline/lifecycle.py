"""ECR lifecycle policy rules, checked locally before any repository is created.

ECR rejects a bad policy only at PutLifecyclePolicy time (and moto accepts
almost anything), so we check what ECR documents: unique priorities, the
`any` rule last, at most one untagged rule, tag filters only on tagged rules,
at most 4 wildcards per pattern, `countUnit` only with the `since...` counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline import readfile

_COUNT_TYPES = (
    "imageCountMoreThan",
    "sinceImagePushed",
    "sinceImagePulled",
    "sinceImageTransitioned",
)
MAX_TEXT = 30720


def _rule_problems(i: int, rule: Any) -> list[str]:
    where = f"rules[{i}]"
    if not isinstance(rule, dict):
        return [f"{where}: expected an object"]
    out: list[str] = []
    priority = rule.get("rulePriority")
    if not isinstance(priority, int) or isinstance(priority, bool) or priority < 1:
        out.append(f"{where}.rulePriority: a whole number of at least 1 is required")
    sel = rule.get("selection")
    if not isinstance(sel, dict):
        return [*out, f"{where}.selection: required"]
    status = sel.get("tagStatus")
    if status not in ("tagged", "untagged", "any"):
        out.append(f"{where}.selection.tagStatus: one of tagged, untagged, any")
    lists = [k for k in ("tagPrefixList", "tagPatternList") if k in sel]
    if status == "tagged" and len(lists) != 1:
        out.append(
            f"{where}.selection: a tagged rule needs exactly one of tagPrefixList, tagPatternList"
        )
    if status in ("untagged", "any") and lists:
        out.append(f"{where}.selection.{lists[0]}: only tagged rules filter by tag")
    for key in lists:
        values = sel[key]
        if (
            not isinstance(values, list)
            or not values
            or not all(isinstance(v, str) and v for v in values)
        ):
            out.append(f"{where}.selection.{key}: a non-empty list of strings")
        elif key == "tagPatternList":
            out += [
                f"{where}.selection.tagPatternList: {v!r} has more than 4 wildcards"
                for v in values
                if v.count("*") > 4
            ]
    count_type = sel.get("countType")
    if count_type not in _COUNT_TYPES:
        out.append(f"{where}.selection.countType: one of {', '.join(_COUNT_TYPES)}")
    if count_type == "imageCountMoreThan" and "countUnit" in sel:
        out.append(f"{where}.selection.countUnit: only with the since... count types")
    if (
        isinstance(count_type, str)
        and count_type.startswith("since")
        and sel.get("countUnit") != "days"
    ):
        out.append(f"{where}.selection.countUnit: {count_type} needs countUnit: days")
    number = sel.get("countNumber")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        out.append(f"{where}.selection.countNumber: a whole number of at least 1 is required")
    action = rule.get("action")
    kind = action.get("type") if isinstance(action, dict) else None
    if kind not in ("expire", "transition"):
        out.append(f"{where}.action.type: expire or transition")
    elif kind == "transition" and action.get("targetStorageClass") != "archive":  # type: ignore[union-attr]
        out.append(f"{where}.action.targetStorageClass: a transition needs archive")
    return out


def problems(policy: Any) -> list[str]:
    """Every rule ECR would reject, as `rules[i].field: message` strings."""
    if (
        not isinstance(policy, dict)
        or not isinstance(policy.get("rules"), list)
        or not policy["rules"]
    ):
        return ['a lifecycle policy is an object with a non-empty "rules" list']
    rules = policy["rules"]
    out = [p for i, rule in enumerate(rules) for p in _rule_problems(i, rule)]
    valid = [r for r in rules if isinstance(r, dict) and _whole(r.get("rulePriority"))]
    priorities = [r["rulePriority"] for r in valid]
    out += [
        f"rulePriority {p} is used more than once"
        for p in sorted(set(priorities))
        if priorities.count(p) > 1
    ]
    status = [(r["rulePriority"], _tag_status(r)) for r in valid]
    if any(s == "any" for _, s in status):
        top = max(p for p, _ in status)
        if any(s == "any" and p != top for p, s in status):
            out.append("the tagStatus any rule must have the highest rulePriority (it runs last)")
    if sum(1 for _, s in status if s == "untagged") > 1:
        out.append("only one rule may select untagged images")
    if len(json.dumps(policy)) > MAX_TEXT:
        out.append(f"the policy is longer than ECR's {MAX_TEXT} characters")
    return out


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _tag_status(rule: dict[str, Any]) -> Any:
    selection = rule.get("selection")
    return selection.get("tagStatus") if isinstance(selection, dict) else None


def parse(text: str) -> tuple[dict[str, Any] | None, list[str]]:
    if len(text) > MAX_TEXT:
        return None, [f"the policy is longer than ECR's {MAX_TEXT} characters"]
    try:
        policy = json.loads(text)
    except ValueError as err:  # also numbers of thousands of digits
        return None, [f"not valid JSON: {err}"]
    except RecursionError:
        return None, ["not a lifecycle policy: nested too deeply"]
    return (policy if isinstance(policy, dict) else None), problems(policy)


def read(path: Path) -> str:
    """The text of a policy file: a regular file of at most ECR's 30,720 characters.

    Raises `readfile.UnreadableFile` (or FileNotFoundError) saying why not.
    """
    data = readfile.read_regular(path, MAX_TEXT * 4)  # UTF-8 takes up to 4 bytes a character
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line, column = readfile.position(data, err.start)
        raise readfile.UnreadableFile(f"not UTF-8 text (line {line}, column {column})") from None
    if len(text) > MAX_TEXT:
        raise readfile.UnreadableFile(
            f"too large: {len(text)} characters, and ECR takes at most {MAX_TEXT}"
        )
    return text
