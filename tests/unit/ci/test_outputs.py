"""Step outputs from a run report: $GITHUB_OUTPUT blocks (multi-line safe), CodeBuild exports."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.ci import outputs
from pipeline.cli import main
from pipeline.errors import UsageError

HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
REPORT: dict[str, Any] = {
    "status": "ok",
    "images": [
        {
            "name": "backend",
            "image": f"{HOST}/acme/backend",
            "digest": DIGEST_A,
            "tags": ["1.2.3", "sha-860c190"],
        },
        {
            "name": "web-ui",
            "image": f"{HOST}/acme/web",
            "digest": DIGEST_B,
            "tags": ["1.2.3"],
        },
        {"name": "never-built", "image": f"{HOST}/acme/x", "digest": None, "tags": []},
    ],
    "deployments": [],
}


def parse_github_output(text: str) -> dict[str, str]:
    """What the runner reads from the file: `name=value` lines and `name<<D` blocks."""
    found: dict[str, str] = {}
    lines = iter(text.split("\n"))
    for line in lines:
        if not line:
            continue
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            for body in lines:
                if body == delimiter:
                    break
                value.append(body)
            else:
                raise AssertionError(f"block {name} never ends")
            found[name] = "\n".join(value)
        else:
            name, _, value_text = line.partition("=")
            found[name] = value_text
    return found


def test_from_report_gives_json_objects_by_image_and_metadata_action_tags() -> None:
    out = outputs.from_report(REPORT, "/tmp/report.json")
    assert out["status"] == "ok"
    assert out["report"] == "/tmp/report.json"
    assert json.loads(out["digests"]) == {"backend": DIGEST_A, "web-ui": DIGEST_B}
    assert json.loads(out["image-uris"]) == {
        "backend": f"{HOST}/acme/backend@{DIGEST_A}",
        "web-ui": f"{HOST}/acme/web@{DIGEST_B}",
    }
    assert json.loads(out["tags-json"]) == {
        "backend": ["1.2.3", "sha-860c190"],
        "web-ui": ["1.2.3"],
        "never-built": [],
    }
    assert out["tags"].split("\n") == [
        f"{HOST}/acme/backend:1.2.3",
        f"{HOST}/acme/backend:sha-860c190",
        f"{HOST}/acme/web:1.2.3",
    ]


@pytest.mark.parametrize(
    "value",
    [
        "one line",
        "two\nlines",
        "",
        "ends with newline\n",
        "other=injected\nsecond<<EOF\nEOF",
        "ghadelimiter_fixed\nafter",
    ],
)
def test_github_block_round_trips_any_value(value: str) -> None:
    text = outputs.github_block("name", value)
    assert parse_github_output(text) == {"name": value}


def test_github_block_chooses_another_delimiter_when_the_value_holds_it() -> None:
    chosen: Iterator[str] = iter(["EOF", "EOF", "SAFE"])
    text = outputs.github_block("x", "a\nEOF\nb", lambda: next(chosen))
    assert text == "x<<SAFE\na\nEOF\nb\nSAFE\n"


def test_delimiters_are_random() -> None:
    first = outputs.github_block("x", "v").split("\n")[0]
    second = outputs.github_block("x", "v").split("\n")[0]
    assert first != second


@pytest.mark.parametrize("name", ["", "has space", "new\nline", "a=b", "1st"])
def test_github_block_refuses_names_the_runner_would_misread(name: str) -> None:
    with pytest.raises(UsageError):
        outputs.github_block(name, "v")


def test_write_github_appends_after_other_steps_outputs(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("previous=1\n", encoding="utf-8")
    outputs.write_github(target, {"a": "x\ny", "b": "z"})
    assert parse_github_output(target.read_text(encoding="utf-8")) == {
        "previous": "1",
        "a": "x\ny",
        "b": "z",
    }


def test_exports_are_shell_safe_and_name_each_image(tmp_path: Path) -> None:
    report = dict(REPORT, status="ok'; touch pwned; echo '")
    script = outputs.exports(report, "/tmp/r e p.json")
    shell = (
        f"{script}\n"
        'printf "%s\\n" "$PIPELINE_STATUS" "$PIPELINE_REPORT" "$PIPELINE_TAGS"'
        ' "$PIPELINE_IMAGE_URI_BACKEND" "$PIPELINE_IMAGE_URI_WEB_UI" "$PIPELINE_DIGESTS"'
    )
    done = subprocess.run(
        ["bash", "-c", shell], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    status, report_path, tags, backend, web, digests = done.stdout.split("\n")[:6]
    assert status == "ok'; touch pwned; echo '"
    assert not (tmp_path / "pwned").exists()
    assert report_path == "/tmp/r e p.json"
    assert tags.split(" ") == outputs.from_report(REPORT, "")["tags"].split("\n")
    assert backend == f"{HOST}/acme/backend@{DIGEST_A}"
    assert web == f"{HOST}/acme/web@{DIGEST_B}"
    assert json.loads(digests) == {"backend": DIGEST_A, "web-ui": DIGEST_B}
    assert "PIPELINE_IMAGE_URI_NEVER_BUILT" not in script


def test_every_fixed_export_is_named_in_env_names() -> None:
    script = outputs.exports(REPORT, "r.json")
    names = [line.split("=")[0].removeprefix("export ") for line in script.splitlines()]
    assert names[: len(outputs.ENV_NAMES)] == list(outputs.ENV_NAMES)


# --------------------------------------------------------------------------- the command


def test_outputs_command_writes_github_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(REPORT), encoding="utf-8")
    target = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(target))
    assert main(["outputs", "--report", str(report)]) == 0
    got = parse_github_output(target.read_text(encoding="utf-8"))
    assert got == outputs.from_report(REPORT, str(report))


def test_outputs_command_env_format_prints_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps(REPORT), encoding="utf-8")
    assert main(["outputs", "--report", str(report), "--format", "env"]) == 0
    assert capsys.readouterr().out == outputs.exports(REPORT, str(report))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{not json", "not readable JSON"),
        ("[1, 2]", "not a pipeline run report"),
        ('{"images": "x"}', "not a pipeline run report"),
    ],
)
def test_outputs_command_refuses_a_missing_or_foreign_report(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    report = tmp_path / "report.json"
    if content is not None:
        report.write_text(content, encoding="utf-8")
    assert main(["outputs", "--report", str(report)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_outputs_command_github_needs_github_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    report = tmp_path / "report.json"
    report.write_text(json.dumps(REPORT), encoding="utf-8")
    assert main(["outputs", "--report", str(report)]) == 2
    assert "GITHUB_OUTPUT is not set" in capsys.readouterr().err
