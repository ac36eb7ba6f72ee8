"""The run report: "ok" only when every asked stage finished; masked when written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import log
from pipeline.console import summary
from pipeline.report.run_report import ImageReport, RunReport, write


def report(stages: list[str], *images: ImageReport, finished: bool = True) -> RunReport:
    return RunReport(stages=stages, images=list(images), finished=finished)


def img(**kw: object) -> ImageReport:
    entry = ImageReport("app", "reg/app", ["sha-1"])
    for key, value in kw.items():
        setattr(entry, key, value)
    return entry


@pytest.mark.parametrize(
    ("case", "run", "status"),
    [
        ("built and pushed", report(["build", "push"], img(built=True, pushed=True)), "ok"),
        ("reused", report(["build", "push"], img(reused=True)), "ok"),
        ("build only", report(["build"], img(built=True)), "ok"),
        ("push only", report(["push"], img(pushed=True)), "ok"),
        ("built, not pushed", report(["build", "push"], img(built=True)), "failed"),
        ("nothing done", report(["build"], img()), "failed"),
        (
            "crashed before the end",
            report(["build", "push"], img(built=True, pushed=True), finished=False),
            "failed",
        ),
        ("no images", report(["build"]), "failed"),
        ("an image failed", report(["build"], img(built=True, error="x")), "failed"),
        (
            "a stage nobody can confirm yet",
            report(["build", "push", "scan"], img(built=True, pushed=True)),
            "failed",
        ),
    ],
)
def test_status(case: str, run: RunReport, status: str) -> None:
    assert run.status == status, case


RELEASE = ["build", "push", "scan", "gate", "promote"]
DONE = {"built": True, "pushed": True}


@pytest.mark.parametrize(
    ("case", "run", "status"),
    [
        (
            "scanned, passed and promoted",
            report(RELEASE, img(**DONE, scanned=True, gate="pass", promoted=True)),
            "ok",
        ),
        (
            "scanning off: gate skipped, promoted",
            report(["build", "push", "promote"], img(**DONE, gate="skipped", promoted=True)),
            "ok",
        ),
        (
            "the gate blocked (the run stopped before promote)",
            report(RELEASE, img(**DONE, scanned=True, gate="block"), finished=False),
            "blocked",
        ),
        (
            "a scan error is a failure even where the gate blocked",
            report(RELEASE, img(**DONE, gate="block", error="scan status FAILED"), finished=False),
            "failed",
        ),
        (
            "one image blocked, the other passed",
            report(
                RELEASE,
                img(**DONE, scanned=True, gate="pass"),
                img(**DONE, scanned=True, gate="block"),
                finished=False,
            ),
            "blocked",
        ),
        (
            "promote did not move every tag",
            report(RELEASE, img(**DONE, scanned=True, gate="pass", promoted=False)),
            "failed",
        ),
        (
            "the gate never ran",
            report(["build", "push", "scan", "gate"], img(**DONE, scanned=True)),
            "failed",
        ),
    ],
)
def test_status_of_a_release(case: str, run: RunReport, status: str) -> None:
    assert run.status == status, case


def test_the_json_carries_scan_and_gate_per_image() -> None:
    fragment = {"status": "COMPLETE", "counts": {"HIGH": 2}, "blocking": []}
    run = report(RELEASE, img(**DONE, scanned=True, gate="pass", promoted=True, scan=fragment))
    image = run.to_json()["images"][0]
    assert (image["scan"], image["gate"]) == (fragment, "pass")
    assert report(["build"], img(built=True)).to_json()["images"][0]["gate"] == "skipped"


def test_interrupted_or_failed_runs_are_never_ok() -> None:
    run = report(["build"], img(built=True))
    run.interrupted = True
    assert run.status == "failed"
    run = report(["build"], img(built=True))
    run.error = "credentials"
    assert run.status == "failed"


def test_a_dry_run_that_finished_is_ok() -> None:
    run = report(["build", "push"], img())
    run.dry_run = True
    assert run.status == "ok"


def test_the_written_report_and_the_summary_are_masked(tmp_path: Path) -> None:
    log.mask("leaked-token-123")
    run = report(["build"], img(error="build failed:\n#5 0.2 leaked-token-123"))
    run.error = "push x: leaked-token-123"
    write(tmp_path / "r.json", run)
    written = (tmp_path / "r.json").read_text()
    assert "leaked-token-123" not in written
    assert json.loads(written)["images"][0]["error"] == "build failed:\n#5 0.2 ***"
    assert "leaked-token-123" not in log.redact(summary.plain(summary.summarize(run)))


@pytest.mark.parametrize(
    ("status", "run_status"),
    [("completed", "ok"), ("skipped", "ok"), ("rolled_back", "failed"), ("failed", "failed")],
)
def test_a_deployment_that_did_not_complete_fails_the_run(status: str, run_status: str) -> None:
    from pipeline.deployment import Deployment

    run = report(["build", "push", "deploy"], img(built=True, pushed=True))
    run.deployments.append(
        Deployment("ecs", "c/s", "reg/app@sha256:1", "reg/app:0", status, "why")  # type: ignore[arg-type]
    )
    assert run.status == run_status
    (entry,) = run.to_json()["deployments"]
    assert {k: entry[k] for k in ("type", "target", "image", "previous", "status")} == {
        "type": "ecs",
        "target": "c/s",
        "image": "reg/app@sha256:1",
        "previous": "reg/app:0",
        "status": status,
    }
    assert summary.summarize(run).deployments == (("c/s", "ecs", status.replace("_", " ")),)


def test_the_summary_shows_the_scan_the_gate_and_what_was_accepted() -> None:
    fragment = {
        "status": "COMPLETE",
        "counts": {"CRITICAL": 1, "LOW": 2},
        "suppressed": [{"id": "CVE-1", "package": "xz", "reason": "not reachable"}],
    }
    run = report(["build", "push", "scan", "gate"], img(built=True, scan=fragment, gate="pass"))
    brief = summary.summarize(run)
    (row,) = brief.images
    assert row[3:5] == ("1 critical, 2 low", "pass")
    assert "app: accepted CVE-1: not reachable" in brief.notes
    off = report(["build", "push", "promote"], img(built=True, gate="skipped"))
    assert summary.summarize(off).images[0][4] == "skipped"


def test_a_report_to_a_pipe_or_device_is_written_into_it_not_swapped_for_a_file(
    tmp_path: Path,
) -> None:
    # `--report /dev/stdout` (a symlink to a pipe or terminal): an atomic rename
    # would replace the symlink with a regular file (as root) or fail in /dev.
    import os
    import threading

    from pipeline.report.run_report import write_text

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "stdout"
    link.symlink_to(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    write_text(link, '{"status": "ok"}\n')
    reader.join(timeout=10)
    assert received == ['{"status": "ok"}\n']
    assert link.is_symlink() and fifo.is_fifo()
    assert {p.name for p in tmp_path.iterdir()} == {"fifo", "stdout"}  # no temporary left


def test_a_report_to_dev_fd_of_a_redirected_file_lands_in_that_file(tmp_path: Path) -> None:
    # `--report /dev/stdout > out.json`: /dev/stdout then resolves to a regular file,
    # which must be written through the descriptor, not renamed over.
    import os

    from pipeline.report.run_report import write_text

    target = tmp_path / "out.json"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"summary\n")  # what the run printed before: kept, not overwritten
        write_text(Path(f"/dev/fd/{fd}"), '{"status": "ok"}\n')
        os.write(fd, b"after\n")
    finally:
        os.close(fd)
    assert target.read_text() == 'summary\n{"status": "ok"}\nafter\n'


def test_a_report_path_that_is_a_symlink_stays_a_symlink(tmp_path: Path) -> None:
    from pipeline.report.run_report import write_text

    real = tmp_path / "reports" / "run.json"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "report.json"
    link.symlink_to(real)
    write_text(link, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"
