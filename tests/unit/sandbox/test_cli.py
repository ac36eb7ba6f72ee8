"""The sandbox CLI: cheap to import, and its help agrees with the settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.sandbox import cli
from pipeline.sandbox.settings import Ports


def test_importing_the_cli_loads_nothing_heavy() -> None:
    code = (
        "import json, sys; import pipeline.sandbox.cli; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('moto', 'boto3', 'botocore', 'docker', 'bcrypt', 'werkzeug', 'requests'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, text=True)
    assert json.loads(out.stdout) == []


def test_port_defaults_in_the_help_match_the_settings() -> None:
    assert {name: port for name, port, _ in cli._PORTS} == Ports().as_dict()
    help_text = " ".join(CliRunner().invoke(cli.sandbox, ["up", "--help"]).output.split())
    for name, port in Ports().as_dict().items():
        assert f"--{name}-port" in help_text
        assert Ports.env_name(name) in help_text
        assert f"default {port}" in help_text


def test_status_without_a_sandbox_exits_1(tmp_path: object) -> None:
    result = CliRunner().invoke(cli.sandbox, ["status", "--dir", f"{tmp_path}/none"])
    assert result.exit_code == 1
    assert "no sandbox runs in" in result.output


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fail-next", "ecs", "cluster-only"], "expected CLUSTER/SERVICE"),
        (["fail-next", "ecs", "a/b/c"], "expected CLUSTER/SERVICE"),
        (["fail-next", "eks", "/web"], "expected NAMESPACE/DEPLOYMENT"),
        (["fail-next", "ecs2", "a/b"], "'ecs2' is not one of"),
        (["fail-next", "eks", "ns/web", "--reason", "x"], "applies to ecs targets only"),
        (["findings", "Bad/Repo", "--file", "{file}"], "not an ECR repository name"),
        (["findings", "team/app", "--file", "{file}", "--delay", "-1"], "-1"),
        (["findings", "team/app", "--file", "{missing}"], "cannot open"),
        (["findings", "team/app", "--file", "{empty}"], "neither findings nor enhancedFindings"),
    ],
)
def test_bad_arguments_are_usage_errors_before_any_sandbox_is_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    (tmp_path / "f.json").write_text('{"findings": []}')
    (tmp_path / "empty.json").write_text("{}")
    paths = {
        "file": tmp_path / "f.json",
        "missing": tmp_path / "missing.json",
        "empty": tmp_path / "empty.json",
    }
    argv = [arg.format(**paths) for arg in argv]
    code = main(["sandbox", *argv, "--dir", str(tmp_path / "no-sandbox")])
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["fail-next", "ecs", "c/web"], ["fail-next", "eks", "ns/web"], ["findings", "team/app"]],
)
def test_actions_without_a_sandbox_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    (tmp_path / "f.json").write_text('{"findings": []}')
    if argv[0] == "findings":
        argv = [*argv, "--file", str(tmp_path / "f.json")]
    code = main(["sandbox", *argv, "--dir", str(tmp_path / "no-sandbox")])
    assert code == 1
    assert "no sandbox runs in" in capsys.readouterr().err
