"""`pipeline run` with every stage, against the sandbox: the scan, the gate, promote.

Each test scripts the next scan of its repository with `pipeline sandbox
findings` (as a user would), then runs `python -m pipeline run` with no
--only/--skip on a release commit (v1.2.3), and checks the exit code, what
ECR lists under which tag, the report and the SARIF file.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.sandbox import Sandbox
from tests.integration.run.releases import CVE, Release, critical, script_scan
from tests.integration.run.support import Project, Result, image_tags, run_cli

SEMVER = [
    {"type": "semver", "pattern": "{{version}}"},
    {"type": "semver", "pattern": "{{major}}.{{minor}}"},
    {"type": "sha"},
]
#: `next_scan(*extra, **doc)`: the sandbox's next scan of the release's repository
NextScan = Callable[..., None]


@pytest.fixture
def release(make_project: Callable[[str], Project], env: dict[str, str], prefix: str) -> Release:
    return Release(make_project, env, prefix)


@pytest.fixture
def scanning(ecr: Any, release: Release) -> str:
    """The release's repository, created with scan on push (so a push starts a scan)."""
    name = release.repository
    ecr.create_repository(repositoryName=name, imageScanningConfiguration={"scanOnPush": True})
    return name


@pytest.fixture
def next_scan(
    sandbox_handle: Sandbox, env: dict[str, str], tmp_path: Path, release: Release
) -> NextScan:
    return functools.partial(script_scan, sandbox_handle, env, tmp_path, release.repository)


def release_project(release: Release, scan: dict[str, Any]) -> Project:
    """The release commit, tagged v1.2.3: semver tags, a gate at 0 CRITICAL, SARIF and outputs."""
    project = release.project(
        "release",
        tags=SEMVER,
        scan={"thresholds": {"critical": 0}, "sarif": "reports/scan.sarif", **scan},
        outputs={"imagedefinitions": "reports/imagedefinitions.json"},
    )
    project.tag("v1.2.3")
    return project


def pushed_digest(result: Result) -> str:
    digest = result.image("app")["digest"]
    assert digest, result.describe()
    return str(digest)


def test_a_critical_finding_blocks_the_release_and_moves_no_mutable_tag(
    release: Release, ecr: Any, scanning: str, next_scan: NextScan, tmp_path: Path
) -> None:
    repository = scanning
    next_scan(findings=[critical()])
    project = release_project(release, {})
    summary = tmp_path / "step-summary.md"

    result = release.run(project, env={**release.env, "GITHUB_STEP_SUMMARY": str(summary)})

    assert result.code == 3, result.describe()
    digest = pushed_digest(result)
    sha = f"sha-{project.head[:7]}"
    assert image_tags(ecr, repository) == {digest: {"1.2.3", sha}}  # no latest, no 1.2
    assert "## Image scan: blocked" in summary.read_text()
    assert f"[{CVE}](https://cve.example/{CVE})" in summary.read_text()
    report = result.report
    assert report["status"] == "blocked"
    image = result.image("app")
    assert image["gate"] == "block"
    assert image["scan"]["status"] == "COMPLETE"
    assert image["scan"]["counts"] == {"CRITICAL": 1}
    assert image["scan"]["blocking"] == [CVE]
    assert sorted(image["pending_tags"]) == ["1.2", "latest"]
    # no promote; deploy only says that nothing goes out (and writes no CodePipeline file)
    assert list(report["seconds"]) == ["prepare", "build", "push", "scan", "gate", "outputs"]
    # the blocking table, on stderr
    assert "app: blocked: 1 CRITICAL finding (at most 0 allowed)" in result.stderr
    assert f"{CVE}  CRITICAL  openssl  3.0.1" in result.stderr
    sarif = json.loads((project.root / "reports" / "scan.sarif").read_text())
    (found,) = sarif["runs"][0]["results"]
    assert found["ruleId"] == CVE and found["level"] == "error"
    assert digest in json.dumps(found["locations"])
    assert not (project.root / "reports" / "imagedefinitions.json").exists()


def test_the_same_finding_ignored_passes_and_promotes_onto_the_pushed_digest(
    release: Release, ecr: Any, scanning: str, next_scan: NextScan
) -> None:
    repository = scanning
    next_scan(findings=[critical()])
    ignore = [{"id": CVE, "reason": "not reachable from the service", "expires": "2099-01-31"}]
    project = release_project(release, {"ignore": ignore})

    result = release.run(project)

    assert result.code == 0, result.describe()
    digest = pushed_digest(result)
    sha = f"sha-{project.head[:7]}"
    assert image_tags(ecr, repository) == {digest: {"1.2.3", "1.2", "latest", sha}}
    assert result.report["status"] == "ok"
    image = result.image("app")
    assert image["gate"] == "pass"
    assert image["pending_tags"] == []
    assert set(image["tags"]) == {"1.2.3", "1.2", "latest", sha}
    assert image["scan"]["suppressed"] == [
        {
            "id": CVE,
            "package": "openssl",
            "reason": "not reachable from the service (until 2099-01-31)",
        }
    ]
    assert list(result.report["seconds"]) == [
        "prepare", "build", "push", "scan", "gate", "promote", "outputs"
    ]  # fmt: skip
    sarif = json.loads((project.root / "reports" / "scan.sarif").read_text())
    (found,) = sarif["runs"][0]["results"]
    assert found["suppressions"][0]["justification"].startswith("not reachable")
    definitions = json.loads((project.root / "reports" / "imagedefinitions.json").read_text())
    assert definitions == [{"name": "app", "imageUri": f"{image['image']}@{digest}"}]


def test_a_scan_that_never_completes_times_out_with_exit_1_and_no_tag_moved(
    release: Release, ecr: Any, scanning: str, next_scan: NextScan
) -> None:
    repository = scanning
    next_scan("--delay", "120", findings=[])
    project = release_project(release, {"timeout": "3s"})

    result = release.run(project)

    assert result.code == 1, result.describe()
    digest = pushed_digest(result)
    assert image_tags(ecr, repository) == {digest: {"1.2.3", f"sha-{project.head[:7]}"}}
    report = result.report
    assert report["status"] == "failed"
    image = result.image("app")
    assert image["scan"]["status"] == "TIMEOUT"
    assert "scan.timeout 3s" in image["scan"]["error"]
    assert "last status: IN_PROGRESS" in image["error"]
    assert report["seconds"]["scan"] < 10
    assert "no mutable tag moved" in result.stderr


def test_scanning_off_releases_ungated_and_still_promotes(release: Release, ecr: Any) -> None:
    repository = release.repository
    project = release_project(release, {"enabled": False})

    result = release.run(project)

    assert result.code == 0, result.describe()
    digest = pushed_digest(result)
    assert "latest" in image_tags(ecr, repository)[digest]
    image = result.image("app")
    assert (image["gate"], image["scan"]) == ("skipped", None)
    assert "scan" not in result.report["seconds"]
    assert not (project.root / "reports" / "scan.sarif").exists()


def test_a_dry_run_of_every_stage_scans_and_moves_nothing_and_says_so(
    release: Release, ecr: Any, scanning: str
) -> None:
    repository = scanning
    project = release_project(release, {})

    result = run_cli(project, release.env, "-v", "run", "--dry-run", timeout=300)

    assert result.code == 0, result.describe()
    assert image_tags(ecr, repository) == {}
    image = result.image("app")
    assert (image["gate"], image["scan"]) == ("skipped", None)
    assert result.report["status"] == "ok" and result.report["dry_run"] is True
    assert f"dry-run: would wait for the scan of {image['image']}" in result.stderr
    assert "dry-run: would move 1.2, latest to" in result.stderr
    assert not (project.root / "reports" / "scan.sarif").exists()


def test_a_rerun_of_a_blocked_commit_reuses_the_image_and_its_scan_and_stays_blocked(
    release: Release, ecr: Any, scanning: str, next_scan: NextScan
) -> None:
    repository = scanning
    next_scan(findings=[critical()])
    project = release_project(release, {})
    first = release.run(project)
    assert first.code == 3, first.describe()

    again = release.run(project)  # nothing new pushed, so no scan on push

    assert again.code == 3, again.describe()
    image = again.image("app")
    assert image["reused"] is True and image["digest"] == first.image("app")["digest"]
    assert image["scan"]["stale"] is True  # the digest's earlier scan, not a new one
    assert image["scan"]["blocking"] == [CVE]
    assert "latest" not in {t for tags in image_tags(ecr, repository).values() for t in tags}
