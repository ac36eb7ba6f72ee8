"""GitHub's workflow commands and the step summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import log
from pipeline.console import github
from pipeline.errors import ConfigProblem
from pipeline.report.run_report import RunReport
from pipeline.stages.results import RunResult, Scanned
from tests.unit.console.reports import DIGEST, Blocked, deployment, ok_run, pushed
from tests.unit.scan.scenario import OUTCOMES, gate


@pytest.fixture(autouse=True)
def _forget() -> None:
    log.forget_all()


@pytest.mark.parametrize(
    ("kwargs", "command"),
    [
        ({}, "::error::boom"),
        ({"file": "pipeline.yaml"}, "::error file=pipeline.yaml::boom"),
        ({"file": "p.yaml", "line": 3}, "::error file=p.yaml,line=3::boom"),
        ({"file": "p.yaml", "line": 3, "col": 5}, "::error file=p.yaml,line=3,col=5::boom"),
        ({"line": 3}, "::error::boom"),  # a line means nothing without its file
        ({"file": "a,b:c.yaml"}, "::error file=a%2Cb%3Ac.yaml::boom"),
    ],
)
def test_error_commands(kwargs: dict[str, object], command: str) -> None:
    assert github.error("boom", **kwargs) == command  # type: ignore[arg-type]


def test_a_message_cannot_end_the_command_or_start_another() -> None:
    text = github.error("50% done\r\n::warning::injected")
    assert text == "::error::50%25 done%0D%0A::warning::injected"
    assert "\n" not in text


def test_annotations_are_masked() -> None:
    log.mask("s3cr3t-value")
    assert github.error("token s3cr3t-value refused") == "::error::token *** refused"


def test_config_problems_become_annotations_relative_to_the_workspace(tmp_path: Path) -> None:
    file = tmp_path / "deploy" / "pipeline.yaml"
    problems = [
        ConfigProblem(str(file), 5, 7, "images[0].repositry", "unknown key 'repositry'"),
        ConfigProblem(str(file), 1, 1, "", "not UTF-8 text"),
    ]
    assert github.config_errors(problems, {"GITHUB_WORKSPACE": str(tmp_path)}) == [
        "::error file=deploy/pipeline.yaml,line=5,col=7::images[0].repositry: unknown key"
        " 'repositry'",
        "::error file=deploy/pipeline.yaml,line=1,col=1::not UTF-8 text",
    ]


@pytest.mark.parametrize(
    ("config", "image", "place"),
    [
        ("version: 1\nscan:\n  enabled: true\n  thresholds: {high: 0}\n", "app", (4, 3)),
        ("version: 1\nscan: {enabled: true}\n", "app", (2, 1)),
        ("version: 1\nimages:\n  - name: web\n  - name: app\n    repository: x\n", "app", (4, 5)),
        ("version: 1\nimages: []\n", "app", None),
        ("version: [\n", "app", None),
    ],
)
def test_the_gate_is_placed_at_the_scan_section_else_at_the_image(
    tmp_path: Path, config: str, image: str, place: tuple[int, int] | None
) -> None:
    file = tmp_path / "pipeline.yaml"
    file.write_text(config)
    assert github.gate_place(file, image, {}) == place


def test_a_blocked_image_without_a_readable_config_is_annotated_without_a_file(
    tmp_path: Path,
) -> None:
    image = pushed(scan={"status": "COMPLETE", "counts": {"HIGH": 2}, "blocking": []}, gate="block")
    passed = pushed("web", gate="pass")
    report = Blocked(stages=["gate"], images=[image, passed], finished=True)
    assert github.gate_blocks(report, tmp_path / "gone.yaml", {}) == [
        "::error::image app: the severity gate blocked the release (2 high)"
    ]


def test_the_step_summary_lists_images_deployments_and_time() -> None:
    image = pushed(scan={"status": "COMPLETE", "counts": {"HIGH": 1}, "blocking": []}, gate="pass")
    text = github.step_summary(ok_run(image, deployments=[deployment()]))
    lines = text.splitlines()
    assert lines[0] == "## pipeline: ok: build, push, deploy"
    assert f"| app | `{DIGEST}` | `sha-abc1234`, `1.2.3` | 1 high | pass | completed |" in lines
    assert "| prod/web | ecs | completed |" in lines
    assert "**Time per stage:** prepare 0.2s · build 3.5s · push 12s · deploy 1m15s" in lines


def test_the_step_summary_includes_the_scan_table_when_the_run_scanned() -> None:
    result = RunResult(scanned=Scanned(tuple(OUTCOMES)), gated=gate())
    text = github.step_summary(ok_run(), result)
    assert "## Image scan: blocked" in text
    assert "| CRITICAL | [CVE-2026-0001]" in text


def test_the_step_summary_is_appended_and_masked(tmp_path: Path) -> None:
    log.mask("leaky-secret-1")
    target = tmp_path / "summary.md"
    target.write_text("# earlier step\n")
    report = RunReport(stages=["build"], images=[pushed()], error="failed: leaky-secret-1")
    assert github.append_step_summary(str(target), github.step_summary(report)) is None
    text = target.read_text()
    assert text.startswith("# earlier step\n## pipeline: failed: build")
    assert "leaky-secret-1" not in text and "error: failed: ***" in text


def test_a_step_summary_that_cannot_be_written_is_a_message(tmp_path: Path) -> None:
    problem = github.append_step_summary(str(tmp_path / "no" / "such" / "file"), "x")
    assert problem is not None and "cannot write the step summary" in problem
