"""The options `plan` and `run` share: `--only`/`--skip` may repeat, and every value counts.

A repeated option that kept only its last value would turn `--skip deploy --skip
promote` into a run that deploys; each value is a comma-separated list, and the
values add up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import cli
from tests.unit.test_preflight import SHA_RULES, project

__all__ = ["project"]

CONFIG = (
    'version: 1\nregistry: {type: ecr, account: "123456789012", region: us-east-1}\n'
    + SHA_RULES
    + "images: [{name: app}]\n"
    + "deploy: [{type: ecs, image: app, cluster: c, service: s}]\n"
)


@pytest.mark.parametrize(
    ("args", "stages"),
    [
        (["--only", "build", "--only", "push"], ["build", "push"]),
        (["--only", "push,scan", "--only", "gate"], ["push", "scan", "gate"]),
        (["--skip", "deploy", "--skip", "promote"], ["build", "push", "scan", "gate"]),
        (
            ["--only", "build,push,scan,gate,promote", "--skip", "promote", "--skip", "build"],
            ["push", "scan", "gate"],
        ),
        (["--skip", "promote,deploy", "--skip", "build"], ["push", "scan", "gate"]),
    ],
)
def test_a_repeated_stage_option_adds_up_its_values(
    args: list[str],
    stages: list[str],
    project: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (project / "pipeline.yaml").write_text(CONFIG)

    code = cli.main(["plan", "--json", *args])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["stages"] == stages


def test_a_repeated_stage_option_with_an_empty_value_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pipeline.yaml").write_text(CONFIG)

    code = cli.main(["plan", "--skip", "deploy", "--skip", ""])

    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith("pipeline: error: --skip names no stage (leave it out to skip none)")
