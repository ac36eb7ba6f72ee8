"""The sandbox CLI: cheap to import, and its help agrees with the settings."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

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
