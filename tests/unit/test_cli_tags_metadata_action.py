"""`pipeline tags --format metadata-action` and the shapes in `tags --json`, end to end
on a real repository, with and without $GITHUB_OUTPUT."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline import cli
from tests.unit.tag_worlds import tagged

pytestmark = pytest.mark.usefixtures("clean_environment")

CONFIG = """version: 1
registry: {type: generic, url: registry.example.com/acme}
tags:
  - {type: semver, pattern: "{{version}}"}
  - {type: semver, pattern: "{{major}}.{{minor}}"}
  - {type: sha}
images:
  - name: backend
    repository: app/backend
    labels: {team: payments}
  - name: frontend
    repository: app/frontend
"""
HOST = "registry.example.com/acme/app/backend"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    world = tagged(tmp_path)
    root: Path = world["path"]
    (root / "pipeline.yaml").write_text(CONFIG, encoding="utf-8")  # untracked: tree stays clean
    (root / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    monkeypatch.chdir(root)
    return world


def _blocks(text: str) -> dict[str, str]:
    """Parse `name<<DELIM ... DELIM` blocks as the runner does."""
    found = re.findall(r"^([\w-]+)<<(\S+)\n(.*?)\n\2$", text, flags=re.M | re.S)
    return {name: value for name, _delim, value in found}


def test_metadata_action_format_writes_the_step_outputs(
    repo: dict[str, object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "github_output"
    target.write_text("earlier=kept\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_OUTPUT", str(target))
    assert cli.main(["tags", "--format", "metadata-action", "--image", "backend"]) == 0
    out = capsys.readouterr().out
    written = target.read_text(encoding="utf-8")
    assert written.startswith("earlier=kept\n")
    got = _blocks(written)
    sha7 = str(repo["head"])[:7]
    assert got["tags"].split("\n") == [
        f"{HOST}:1.1.0",
        f"{HOST}:1.1",
        f"{HOST}:sha-{sha7}",
        f"{HOST}:latest",  # latest: auto, the highest release
    ]
    labels = dict(line.split("=", 1) for line in got["labels"].split("\n"))
    assert labels["org.opencontainers.image.version"] == "1.1.0"
    assert labels["org.opencontainers.image.revision"] == repo["head"]
    assert labels["team"] == "payments"
    assert got["annotations"].split("\n")[0].startswith("manifest:org.opencontainers.image.")
    assert got["version"] == "1.1.0"
    assert json.loads(got["json"])["tags"] == got["tags"].split("\n")
    assert set(got) == {"tags", "labels", "annotations", "version", "json"}
    assert out.startswith(f"tags:\n{HOST}:1.1.0\n")


def test_metadata_action_format_without_github_output_only_prints(
    repo: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["tags", "--format", "metadata-action", "--image", "backend"]) == 0
    out = capsys.readouterr().out
    assert "\nversion:\n1.1.0\n" in out
    assert not list(tmp_path.glob("github_output*"))


def test_metadata_action_format_with_several_images_is_a_usage_error(
    repo: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["tags", "--format", "metadata-action"]) == 2
    err = capsys.readouterr().err
    assert "name it with --image (images: backend, frontend)" in err
    assert "Traceback" not in err


def test_json_and_another_format_together_are_a_usage_error(
    repo: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["tags", "--json", "--format", "metadata-action"]) == 2
    assert "ask for different outputs" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--json"], ["--format", "json"]])
def test_tags_json_carries_the_metadata_action_lines_per_image(
    args: list[str], repo: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["tags", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    for image in data["images"]:
        shapes = image["metadata_action"]
        assert shapes["tags"].split("\n") == [f"{image['image']}:{t}" for t in image["tags"]]
        assert shapes["labels"].split("\n") == [f"{k}={v}" for k, v in image["labels"].items()]
