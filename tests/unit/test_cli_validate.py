"""`pipeline validate` and `pipeline schema` through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli import main
from tests.unit.config.helpers import yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "pipeline.example.yaml"

BROKEN = yaml("""
    version: 1
    registry:
      account: 123456789012
    images:
      - name: app
        platforms: [linux/x86_64]
        depends_on: [web]
    scan:
      timeout: 10
    latest: allways
""")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    return path


def test_validate_the_example(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCOUNT_ID", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    assert main(["validate", "-f", str(EXAMPLE)]) == 0
    out, err = capsys.readouterr()
    assert "valid (2 image(s): backend, frontend)" in out
    assert err == ""


def test_validate_reports_every_problem_on_stderr_sorted_by_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, BROKEN)
    assert main(["validate", "-f", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert [line.split(": ")[0:2] for line in lines] == [
        [f"{path}:3:12", "registry.account"],
        [f"{path}:6:17", "images[0].platforms[0]"],
        [f"{path}:7:18", "images[0].depends_on[0]"],
        [f"{path}:9:12", "scan.timeout"],
        [f"{path}:10:9", "latest"],
    ]
    assert "quote it" in lines[0]
    assert "did you mean 'linux/amd64'?" in lines[1]
    assert "did you mean 'always'?" in lines[4]


def test_file_option_before_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, BROKEN)
    assert main(["-f", str(path), "validate"]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 5


def test_in_github_actions_each_problem_is_also_an_annotation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    path = _write(tmp_path, BROKEN)
    assert main(["validate", "-f", str(path)]) == 2
    lines = capsys.readouterr().err.splitlines()
    plain = [line for line in lines if not line.startswith("::")]
    annotations = [line for line in lines if line.startswith("::error ")]
    assert len(plain) == len(annotations) == 5  # the usual lines, and one annotation each
    assert annotations[-1].startswith("::error file=pipeline.yaml,line=10,col=9::latest: ")
    assert "did you mean 'always'?" in annotations[-1]


def test_validate_a_yaml_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "version: 1\nimages: [{name: app}\n")
    assert main(["validate", "-f", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:3:1: YAML syntax error: ")
    assert len(err.splitlines()) == 1


def test_validate_an_unset_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIPELINE_TEST_ACCOUNT", raising=False)
    text = 'version: 1\nregistry: {account: "${PIPELINE_TEST_ACCOUNT}"}\nimages: [{name: app}]\n'
    path = _write(tmp_path, text)
    assert main(["validate", "-f", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"{path}:2:21: registry.account: environment variable PIPELINE_TEST_ACCOUNT is not set"
        " (give a default: ${PIPELINE_TEST_ACCOUNT:-value})\n"
    )
    monkeypatch.setenv("PIPELINE_TEST_ACCOUNT", "012345678901")
    assert main(["validate", "-f", str(path)]) == 0


def test_validate_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-f", str(tmp_path / "nope.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    out, err = capsys.readouterr()
    schema = json.loads(out)
    assert err == ""
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["version", "images"]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) >= {"version", "registry", "tags", "images", "scan"}
