"""The lifecycle policy named by the config is checked when the config loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.config.load import load
from pipeline.errors import ConfigError

BASE = """\
version: 1
registry:
  account: "123456789012"
  region: us-east-1
  repository:
    lifecycle_policy: {policy}
images:
  - name: app
    repository: team/app
"""


def write(tmp_path: Path, policy: str) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(BASE.format(policy=policy))
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    return path


def test_a_valid_policy_file_loads(tmp_path: Path) -> None:
    rule = {
        "rulePriority": 1,
        "selection": {
            "tagStatus": "untagged",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": 7,
        },
        "action": {"type": "expire"},
    }
    (tmp_path / "policy.json").write_text(json.dumps({"rules": [rule]}))
    assert (
        load(write(tmp_path, "policy.json")).registry.repository.lifecycle_policy == "policy.json"
    )


def test_a_missing_policy_file_is_reported_at_its_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, "nope.json"))
    [problem] = err.value.problems
    assert (problem.line, problem.path) == (6, "registry.repository.lifecycle_policy")
    assert "cannot read the lifecycle policy file nope.json" in problem.message


def test_policy_file_problems_are_reported_at_load(tmp_path: Path) -> None:
    rule = {
        "rulePriority": 1,
        "selection": {
            "tagStatus": "any",
            "countType": "imageCountMoreThan",
            "countNumber": 1,
            "countUnit": "days",
        },
        "action": {"type": "expire"},
    }
    (tmp_path / "p.json").write_text(json.dumps({"rules": [rule, {**rule, "rulePriority": 1}]}))
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, "p.json"))
    messages = [p.message for p in err.value.problems]
    assert any("rulePriority 1 is used more than once" in m for m in messages)
    assert any("countUnit: only with the since" in m for m in messages)


def test_inline_policy_problems_are_reported(tmp_path: Path) -> None:
    inline = (
        "{rules: [{rulePriority: 1, selection: {tagStatus: tagged,"
        " countType: imageCountMoreThan, countNumber: 3}, action: {type: expire}}]}"
    )
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, inline))
    assert "exactly one of tagPrefixList, tagPatternList" in err.value.problems[0].message
