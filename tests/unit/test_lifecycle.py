"""Local checks of ECR lifecycle policies (moto accepts what ECR refuses)."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline import lifecycle


def rule(priority: int, status: str = "tagged", **selection: Any) -> dict[str, Any]:
    sel: dict[str, Any] = {"tagStatus": status, "countType": "imageCountMoreThan", "countNumber": 5}
    if (
        status == "tagged"
        and "tagPrefixList" not in selection
        and "tagPatternList" not in selection
    ):
        sel["tagPrefixList"] = ["v"]
    sel.update(selection)
    return {"rulePriority": priority, "selection": sel, "action": {"type": "expire"}}


GOOD = [
    [rule(1)],
    [rule(1), rule(2, "untagged", countType="sinceImagePushed", countUnit="days")],
    [rule(1, tagPatternList=["*-rc*"]), rule(9, "any")],
    [rule(1, countType="sinceImagePulled", countUnit="days")],
    [{**rule(1), "action": {"type": "transition", "targetStorageClass": "archive"}}],
]


@pytest.mark.parametrize("rules", GOOD)
def test_valid_policies(rules: list[dict[str, Any]]) -> None:
    assert lifecycle.problems({"rules": rules}) == []


BAD = [
    ([rule(1), rule(1)], "rulePriority 1 is used more than once"),
    ([rule(5, "any"), rule(6)], "any rule must have the highest rulePriority"),
    ([rule(1, "untagged"), rule(2, "untagged")], "only one rule may select untagged"),
    ([rule(1, tagPatternList=["a*b*c*d*e*f"])], "more than 4 wildcards"),
    ([rule(1, countUnit="days")], "countUnit: only with the since"),
    ([rule(1, countType="sinceImagePushed")], "needs countUnit: days"),
    ([rule(1, "untagged", tagPrefixList=["v"])], "only tagged rules filter by tag"),
    ([rule(1, tagPatternList=["x"], tagPrefixList=["v"])], "exactly one of"),
    ([rule(0)], "rulePriority: a whole number"),
    ([rule(1, countNumber=0)], "countNumber"),
    ([{**rule(1), "action": {"type": "delete"}}], "action.type"),
    ([{**rule(1), "action": {"type": "transition"}}], "targetStorageClass"),
    ([], "non-empty"),
]


@pytest.mark.parametrize(("rules", "message"), BAD)
def test_invalid_policies(rules: list[dict[str, Any]], message: str) -> None:
    found = lifecycle.problems({"rules": rules})
    assert any(message in p for p in found), found


def test_parse_reports_bad_json() -> None:
    policy, found = lifecycle.parse("{not json")
    assert policy is None
    assert "not valid JSON" in found[0]


def test_example_policy_is_valid() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[2] / "examples" / "ecr-lifecycle.json").read_text()
    assert lifecycle.parse(text)[1] == []
