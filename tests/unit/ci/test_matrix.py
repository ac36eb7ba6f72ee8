"""`pipeline matrix`: waves of depends_on, the three formats, out-of-range levels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml as pyyaml

from pipeline.ci import matrix
from pipeline.cli import main
from pipeline.config.schema import Config
from pipeline.errors import UsageError
from tests.unit.config.helpers import valid, yaml

REGISTRY = "registry: {type: generic, url: registry.example.com/acme}"


def config_of(images: str) -> str:
    return f"version: 1\n{REGISTRY}\nimages:\n{images}"


# name -> depends_on, in config order
DIAMOND = {"base": [], "left": ["base"], "right": ["base"], "top": ["left", "right"]}
INDEPENDENT = {"a": [], "b": [], "c": []}
CHAIN_OUT_OF_ORDER = {"app": ["lib"], "lib": ["base"], "base": []}
MIXED = {"tool": [], "base": [], "web": ["base"], "api": ["base"], "e2e": ["web", "tool"]}


def images_yaml(deps: dict[str, list[str]]) -> str:
    return "".join(
        f"  - name: {name}\n    depends_on: [{', '.join(d)}]\n" for name, d in deps.items()
    )


def load(deps: dict[str, list[str]]) -> Config:
    return valid(config_of(images_yaml(deps)))


@pytest.mark.parametrize(
    ("deps", "expected"),
    [
        (DIAMOND, {"base": 0, "left": 1, "right": 1, "top": 2}),
        (INDEPENDENT, {"a": 0, "b": 0, "c": 0}),
        (CHAIN_OUT_OF_ORDER, {"app": 2, "lib": 1, "base": 0}),
        (MIXED, {"tool": 0, "base": 0, "web": 1, "api": 1, "e2e": 2}),
    ],
    ids=["diamond", "independent", "chain-listed-backwards", "mixed"],
)
def test_levels_put_each_image_one_wave_after_its_latest_dependency(
    deps: dict[str, list[str]], expected: dict[str, int]
) -> None:
    assert matrix.levels(load(deps)) == expected


@pytest.mark.parametrize(
    ("deps", "level", "names"),
    [
        (DIAMOND, 0, ["base"]),
        (DIAMOND, 1, ["left", "right"]),
        (DIAMOND, 2, ["top"]),
        (DIAMOND, None, ["base", "left", "right", "top"]),
        (INDEPENDENT, 0, ["a", "b", "c"]),
        (CHAIN_OUT_OF_ORDER, 0, ["base"]),
        (CHAIN_OUT_OF_ORDER, 2, ["app"]),
        (MIXED, 2, ["e2e"]),
    ],
)
def test_a_level_selects_its_wave_in_config_order(
    deps: dict[str, list[str]], level: int | None, names: list[str]
) -> None:
    assert [e.name for e in matrix.entries(load(deps), level)] == names


@pytest.mark.parametrize(("deps", "level"), [(DIAMOND, 3), (INDEPENDENT, 1), (MIXED, 99)])
def test_a_level_past_the_last_wave_is_a_usage_error(
    deps: dict[str, list[str]], level: int
) -> None:
    with pytest.raises(UsageError, match=rf"--level {level}: the config has \d wave"):
        matrix.entries(load(deps), level)


def test_an_entry_carries_what_a_runner_needs() -> None:
    config = valid(
        config_of(
            yaml("""
              - name: api
                repository: acme/api
                context: services/api
                dockerfile: build/Dockerfile
                target: runtime
                platforms: [linux/amd64]
                depends_on: [base]
              - name: base
            """)
        )
    )
    api = matrix.entries(config)[0].to_json()
    assert api == {
        "name": "api",
        "repository": "acme/api",
        "context": "services/api",
        "dockerfile": "build/Dockerfile",
        "target": "runtime",
        "platforms": ["linux/amd64"],
        "depends_on": ["base"],
        "level": 1,
    }
    base = matrix.entries(config)[1].to_json()
    assert (base["repository"], base["context"], base["dockerfile"]) == ("base", ".", "Dockerfile")


def test_github_format_is_one_compact_line_for_fromjson() -> None:
    text = matrix.github(matrix.entries(load(DIAMOND), 1))
    assert "\n" not in text and " " not in text
    assert [e["name"] for e in json.loads(text)["include"]] == ["left", "right"]


# --------------------------------------------------------------------------- codebuild


RUNNER = {"PIPELINE_SKIP": "promote,deploy"}


def runner(image: str) -> dict[str, str]:
    return {"PIPELINE_IMAGE": image, **RUNNER}


def test_codebuild_graph_chains_builds_by_depend_on() -> None:
    graph = matrix.codebuild(matrix.entries(load(DIAMOND)))["batch"]["build-graph"]
    assert graph[:4] == [
        {"identifier": "build_base", "env": {"variables": runner("base")}},
        {
            "identifier": "build_left",
            "env": {"variables": runner("left")},
            "depend-on": ["build_base"],
        },
        {
            "identifier": "build_right",
            "env": {"variables": runner("right")},
            "depend-on": ["build_base"],
        },
        {
            "identifier": "build_top",
            "env": {"variables": runner("top")},
            "depend-on": ["build_left", "build_right"],
        },
    ]


def test_codebuild_runners_never_promote_or_deploy_and_one_final_build_releases() -> None:
    # One decision per release: a runner whose image passes must not move its
    # mutable tags or deploy while another runner's image is blocked. CodeBuild
    # starts a build only when every build it depends on succeeded (a blocked
    # gate exits 3), so the final build runs only when every runner passed; it
    # runs the whole pipeline, which reuses what the runners pushed and gated.
    graph = matrix.codebuild(matrix.entries(load(DIAMOND)))["batch"]["build-graph"]
    assert all(b["env"]["variables"]["PIPELINE_SKIP"] == "promote,deploy" for b in graph[:4])
    assert graph[4] == {
        "identifier": "promote_deploy",
        "env": {"variables": {"PIPELINE_IMAGE": "", "PIPELINE_SKIP": ""}},
        "depend-on": ["build_base", "build_left", "build_right", "build_top"],
    }


def test_codebuild_graph_of_one_level_names_no_build_outside_it() -> None:
    graph = matrix.codebuild(matrix.entries(load(DIAMOND), 2), final=False)["batch"]["build-graph"]
    assert graph == [{"identifier": "build_top", "env": {"variables": runner("top")}}]


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (
            ["web.app", "web-app", "web_app"],
            ["build_web_app", "build_web_app_2", "build_web_app_3"],
        ),
        (["9lives"], ["build_9lives"]),
        (["a" * 200], ["build_" + "a" * 114]),  # checked below: 127 long, hash-suffixed
    ],
)
def test_codebuild_identifiers_are_valid_and_unique(names: list[str], expected: list[str]) -> None:
    taken: set[str] = set()
    got = [matrix.identifier(n, taken) for n in names]
    for ident in got:
        assert len(ident) <= 127
        assert all(c.isalnum() or c == "_" for c in ident)
    assert len(set(got)) == len(got)
    if len(names[0]) > 127:
        assert got[0].startswith(expected[0]) and len(got[0]) == 127
    else:
        assert got == expected


def test_long_names_that_share_a_start_stay_distinct() -> None:
    taken: set[str] = set()
    first = matrix.identifier("x" * 130 + "one", taken)
    second = matrix.identifier("x" * 130 + "two", taken)
    assert first != second and len(first) == len(second) == 127


# --------------------------------------------------------------------------- the command


def write(tmp_path: Path, deps: dict[str, list[str]]) -> str:
    path = tmp_path / "pipeline.yaml"
    path.write_text(config_of(images_yaml(deps)), encoding="utf-8")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    return str(path)


def test_command_github_writes_the_matrix_output_multiline_safe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "github_output"
    out_file.write_text("earlier=kept\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_OUTPUT", str(out_file))
    assert (
        main(["matrix", "-f", write(tmp_path, DIAMOND), "--format", "github", "--level", "1"]) == 0
    )
    printed = capsys.readouterr().out.strip()
    lines = out_file.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "earlier=kept"
    start, value, end = lines[1:4]
    delimiter = start.removeprefix("matrix<<")
    assert start.startswith("matrix<<") and end == delimiter
    assert value == printed
    assert [e["name"] for e in json.loads(value)["include"]] == ["left", "right"]
    assert lines[4].startswith("levels<<") and lines[5] == "3"


def test_command_github_without_github_output_only_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    assert main(["matrix", "-f", write(tmp_path, INDEPENDENT), "--format", "github"]) == 0
    assert len(json.loads(capsys.readouterr().out)["include"]) == 3


def test_command_json_and_codebuild_formats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path, DIAMOND)
    assert main(["matrix", "-f", config, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["levels"] == 3 and len(data["include"]) == 4
    assert main(["matrix", "-f", config, "--format", "codebuild"]) == 0
    block = pyyaml.safe_load(capsys.readouterr().out)
    assert [b["identifier"] for b in block["batch"]["build-graph"]] == [
        "build_base",
        "build_left",
        "build_right",
        "build_top",
        "promote_deploy",
    ]
    assert main(["matrix", "-f", config, "--format", "codebuild", "--level", "1"]) == 0
    block = pyyaml.safe_load(capsys.readouterr().out)
    assert [b["identifier"] for b in block["batch"]["build-graph"]] == ["build_left", "build_right"]


@pytest.mark.parametrize("level", ["3", "-1", "one"])
def test_command_refuses_a_bad_level_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], level: str
) -> None:
    assert main(["matrix", "-f", write(tmp_path, DIAMOND), "--level", level]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "--level" in err and "Traceback" not in err


def test_command_with_a_broken_config_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "pipeline.yaml"
    path.write_text("version: 1\nimages:\n  - name: a\n    depends_on: [ghost]\n", encoding="utf-8")
    assert main(["matrix", "-f", str(path)]) == 2
    assert "images[0].depends_on[0]" in capsys.readouterr().err
