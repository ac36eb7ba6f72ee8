"""`--from-report`: runners' reports read back into Published and the gate's decisions."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, cast

import pytest

from pipeline.errors import UsageError
from pipeline.report.run_report import ImageReport, RunReport, write
from pipeline.stages import from_report
from pipeline.stages.from_report import Expected, combine, read

REV = "c0ffee" + "0" * 34
OTHER_REV = "beef" + "1" * 36
A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
PLAN = (
    Expected("app", "reg.example/team/app", "team/app"),
    Expected("web", "reg.example/team/web", "team/web"),
)
GATED = ["build", "push", "scan", "gate"]


def image(name: str = "app", /, **over: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "image": f"reg.example/team/{name}",
        "repository": f"team/{name}",
        "revision": REV,
        "version": "1.2.3",
        "digest": A if name == "app" else B,
        "tags": ["1.2.3", "sha-c0ffee0"],
        "built": True,
        "pushed": True,
        "reused": False,
        "scan": {"status": "COMPLETE", "counts": {}, "blocking": []},
        "gate": "pass",
        "pending_tags": ["1.2", "latest"],
        "error": None,
    }
    entry.update(over)
    return entry


def report(*images: dict[str, Any], **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "status": "ok",
        "stages": GATED,
        "dry_run": False,
        "images": list(images),
        "deployments": [],
    }
    doc.update(over)
    return doc


def blocked_app() -> dict[str, Any]:
    return image(
        gate="block",
        scan={"status": "COMPLETE", "counts": {"CRITICAL": 1}, "blocking": ["CVE-2024-1"]},
    )


# --------------------------------------------------------------------------- what is read


def test_two_runners_reports_give_every_image_as_published_in_the_plans_order() -> None:
    got = combine(
        [("r-web.json", report(image("web"))), ("r-app.json", report(image("app")))],
        PLAN,
        REV,
        gated=True,
    )

    app, web = got.published.images
    assert (app.name, web.name) == ("app", "web")
    assert app.ref == f"reg.example/team/app@{A}" and web.digest == B
    assert (app.repository, app.revision, app.version) == ("team/app", REV, "1.2.3")
    assert (app.tags, app.pending_tags) == (("1.2.3", "sha-c0ffee0"), ("1.2", "latest"))
    assert (app.pushed, app.reused, app.error) == (True, False, None)
    assert got.published.ok
    assert got.gated.decision == "pass" and not got.gated.blocked
    assert [g.decision for g in got.gated.images] == ["pass", "pass"]
    assert dict(got.sources) == {"app": "r-app.json", "web": "r-web.json"}


@pytest.mark.parametrize(
    ("case", "reports", "gated", "decision", "per_image"),
    [
        (
            "one report with both images",
            [("r.json", report(image("app"), image("web")))],
            True,
            "pass",
            ["pass", "pass"],
        ),
        (
            "the same image twice under one digest",
            [("r1.json", report(image("app"), image("web"))), ("r2.json", report(image("app")))],
            True,
            "pass",
            ["pass", "pass"],
        ),
        (
            "one runner blocked: the release is blocked",
            [
                ("r1.json", report(blocked_app(), status="blocked")),
                ("r2.json", report(image("web"))),
            ],
            True,
            "block",
            ["block", "pass"],
        ),
        (
            "the same digest passed in one report and blocked in another: blocked",
            [
                ("r1.json", report(image("app"), image("web"))),
                ("r2.json", report(blocked_app(), status="blocked")),
            ],
            True,
            "block",
            ["block", "pass"],
        ),
        (
            "scanning off: runners did not gate, every image skipped",
            [
                (
                    "r.json",
                    report(
                        image("app", gate="skipped", scan=None),
                        image("web", gate="skipped", scan=None),
                        stages=["build", "push"],
                    ),
                )
            ],
            False,
            "skipped",
            ["skipped", "skipped"],
        ),
        (
            "an unscannable image let through (skipped) next to a passing one",
            [("r.json", report(image("app", gate="skipped"), image("web")))],
            True,
            "pass",
            ["skipped", "pass"],
        ),
        (
            "a reused image (nothing pushed by that runner) is still published",
            [("r.json", report(image("app", pushed=False, reused=True), image("web")))],
            True,
            "pass",
            ["pass", "pass"],
        ),
    ],
)
def test_the_release_decision_is_one_for_every_report(
    case: str,
    reports: list[tuple[str, Any]],
    gated: bool,
    decision: str,
    per_image: list[str],
) -> None:
    got = combine(reports, PLAN, REV, gated=gated)

    assert got.gated.decision == decision, case
    assert [g.decision for g in got.gated.images] == per_image, case


def test_a_blocked_image_says_which_report_blocked_it_and_the_findings() -> None:
    got = combine(
        [("runner-1.json", report(blocked_app(), image("web"), status="blocked"))],
        PLAN,
        REV,
        gated=True,
    )

    assert got.gated.image("app").reasons == (
        "blocked in runner-1.json",
        "blocking findings: CVE-2024-1",
    )


def test_an_image_selection_needs_only_its_reports() -> None:
    got = combine([("r.json", report(image("web")))], PLAN[1:], REV, gated=True)

    assert [i.name for i in got.published.images] == ["web"]


# --------------------------------------------------------------------------- refusals


def bad(**over: Any) -> list[tuple[str, Any]]:
    """app's report with `over` applied to the report; web's report is fine."""
    return [("r-app.json", report(image("app"), **over)), ("r-web.json", report(image("web")))]


def bad_image(**over: Any) -> list[tuple[str, Any]]:
    return [("r-app.json", report(image("app", **over))), ("r-web.json", report(image("web")))]


@pytest.mark.parametrize(
    ("case", "reports", "message"),
    [
        ("no report", [], "--from-report names no report"),
        (
            "a JSON list",
            [("r.json", [1, 2])],
            "r.json: not a run report (no status, stages and images;"
            " `pipeline run --report FILE` writes one)",
        ),
        (
            "another tool's JSON",
            [("r.json", {"include": [{"name": "app"}]})],
            "r.json: not a run report (no status, stages and images;",
        ),
        (
            "an unknown status",
            bad(status="done"),
            "r-app.json: not a run report: status 'done' is none of ok, failed, blocked",
        ),
        ("no images", bad(images=[]), "r-app.json: not a run report: it lists no image"),
        (
            "stages not a list",
            bad(stages="build,push"),
            "r-app.json: not a run report: stages is not a list of stage names",
        ),
        (
            "a failed run",
            [("r-app.json", report(image("app", error="push failed"), status="failed"))],
            "r-app.json: the run that wrote it failed (app failed): nothing of it may be"
            " promoted or deployed; fix that runner and run it again",
        ),
        (
            "a dry run",
            bad(dry_run=True),
            "r-app.json: written by a dry run, which publishes nothing",
        ),
        (
            "a runner that did not gate, while the config scans",
            bad(stages=["build", "push"]),
            "r-app.json: its run did not gate the images (stages build,push), and this config"
            " scans: runners run `pipeline run --image NAME --skip promote,deploy`",
        ),
        (
            "an entry that is not an object",
            [("r-app.json", report(cast(Any, "app"))), ("r-web.json", report(image("web")))],
            "r-app.json: images[0]: not an image entry",
        ),
        (
            "wrong types",
            bad_image(tags="latest", gate="maybe", name=None),
            "r-app.json: images[0]: name is not a string; tags is not a list of tags;"
            " gate is not one of pass, block, skipped",
        ),
        (
            "no digest",
            bad_image(digest=None),
            "r-app.json: image app has no digest: its runner did not push it",
        ),
        (
            "not a sha256 digest",
            bad_image(digest="sha256:xyz"),
            "r-app.json: image app: digest 'sha256:xyz' is not a sha256 digest",
        ),
        (
            "an image that failed in an otherwise blocked run",
            [
                (
                    "r-app.json",
                    report(image("app", error="scan failed"), image("web"), status="blocked"),
                )
            ],
            "r-app.json: image app failed in that run: it may not be promoted or deployed",
        ),
        (
            "an image the config does not have",
            [("r.json", report(image("app"), image("web"), image("db", digest=B)))],
            "r.json: image db is not in this run (its images: app, web); select it with"
            " --image, or pass only the reports of this config's runners",
        ),
        (
            "another registry",
            bad_image(image="other.example/team/app"),
            "r-app.json: image app was pushed to other.example/team/app, but this config"
            " pushes it to reg.example/team/app",
        ),
        (
            "another repository",
            bad_image(repository="team/old-app"),
            "r-app.json: image app is in repository team/old-app, but this config names team/app",
        ),
        (
            "another commit",
            bad_image(revision=OTHER_REV),
            "r-app.json: image app was built from commit beef111, but this checkout is at"
            " c0ffee0: run the final job on the runners' commit",
        ),
        (
            "no commit",
            bad_image(revision=None),
            "r-app.json: image app does not say which commit it was built from",
        ),
        (
            "one image, two digests",
            [
                ("r1.json", report(image("app"), image("web"))),
                ("r2.json", report(image("app", digest=B))),
            ],
            "r2.json: image app has digest sha256:bbbbbbbbbbbb, but r1.json has"
            " sha256:aaaaaaaaaaaa: pass one report per image (of one run of the runners)",
        ),
        (
            "a runner's report missing",
            [("r-app.json", report(image("app")))],
            "no report lists image(s) web: pass the report of every runner, or select the"
            " images to release with --image",
        ),
        (
            "blocked, but no image blocks",
            bad(status="blocked"),
            "r-app.json: status blocked, but no image's gate is block",
        ),
    ],
)
def test_every_problem_is_a_usage_error_naming_the_file_and_the_fix(
    case: str, reports: list[tuple[str, Any]], message: str
) -> None:
    with pytest.raises(UsageError) as err:
        combine(reports, PLAN, REV, gated=True)

    assert message in str(err.value), case
    assert err.value.exit_code == 2


def test_every_problem_is_said_at_once() -> None:
    reports = [
        ("r1.json", report(image("app", digest=None))),
        ("r2.json", report(image("web", revision=OTHER_REV))),
    ]
    with pytest.raises(UsageError) as err:
        combine(reports, PLAN, REV, gated=True)

    assert str(err.value).splitlines() == [
        "r1.json: image app has no digest: its runner did not push it",
        "r2.json: image web was built from commit beef111, but this checkout is at c0ffee0:"
        " run the final job on the runners' commit",
    ]


# --------------------------------------------------------------------------- stages
# --------------------------------------------------------------------------- files


def write_json(path: Path, value: Any) -> str:
    path.write_text(json.dumps(value))
    return str(path)


def test_files_are_read_and_combined(tmp_path: Path) -> None:
    paths = [
        write_json(tmp_path / "r1.json", report(image("app"))),
        write_json(tmp_path / "r2.json", report(image("web"))),
    ]

    got = read(paths, PLAN, REV, gated=True)

    assert [i.digest for i in got.published.images] == [A, B]
    assert got.sources["app"] == paths[0]


def test_unreadable_files_are_named_with_every_other_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(from_report, "REPORT_LIMIT", 4096)
    big = tmp_path / "big.json"
    big.write_text(json.dumps(report(image("app"), padding="x" * 5000)))
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"status": "ok",\n "images": [}')
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe{}")
    paths = [tmp_path / "missing.json", tmp_path, fifo, big, garbage, binary]

    with pytest.raises(UsageError) as err:
        read([str(p) for p in paths], PLAN, REV, gated=True)

    assert str(err.value).splitlines() == [
        f"{tmp_path}/missing.json: no such file",
        f"{tmp_path}: cannot read it: not a regular file: it is a directory",
        f"{fifo}: cannot read it: not a regular file: it is a FIFO (named pipe)",
        f"{big}: cannot read it: too large: {big.stat().st_size} bytes, and the limit is 4 KiB",
        f"{garbage}: not a run report: not JSON (line 2, column 13: Expecting value)",
        f"{binary}: not a run report: not UTF-8 text",
    ]


def test_a_file_of_nested_brackets_is_refused_not_a_crash(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)

    with pytest.raises(UsageError) as err:
        read([str(deep)], PLAN, REV, gated=True)

    assert str(err.value) == f"{deep}: not a run report: nested too deeply"


def test_a_report_the_run_wrote_reads_back(tmp_path: Path) -> None:
    """The fields `--from-report` needs are the ones the run report writes."""
    written = RunReport(stages=["build", "push"], finished=True)
    for name, digest in (("app", A), ("web", B)):
        entry = ImageReport(
            name,
            f"reg.example/team/{name}",
            ["sha-c0ffee0"],
            repository=f"team/{name}",
            revision=REV,
            version=None,
            digest=digest,
            built=True,
            pushed=True,
            pending_tags=["main"],
        )
        written.images.append(entry)
    path = tmp_path / "report.json"
    write(path, written)

    got = read([str(path)], PLAN, REV, gated=False)

    app = got.published.image("app")
    assert (app.ref, app.tags, app.pending_tags) == (
        f"reg.example/team/app@{A}",
        ("sha-c0ffee0",),
        ("main",),
    )
    assert (app.revision, app.version) == (REV, None)
    assert got.gated.decision == "skipped"


# --------------------------------------------------------------------------- scan fragments

FULL_SCAN = {
    "status": "COMPLETE",
    "counts": {"CRITICAL": 1, "HIGH": 2},
    "blocking": ["CVE-2024-1"],
    "enhanced": True,
    "taken_at": "2026-11-27T10:00:00+00:00",
    "stale": False,
    "suppressed": [{"id": "CVE-2024-9", "package": "zlib", "reason": "not reachable"}],
    "warnings": ["an earlier scan"],
}


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        (FULL_SCAN, FULL_SCAN),
        (None, None),
        ("COMPLETE", None),
        ({"counts": {"HIGH": 1}}, None),
        ({"status": 3}, None),
        (
            {"status": "FAILED", "error": "UnsupportedImageError: not supported"},
            {"status": "FAILED", "error": "UnsupportedImageError: not supported"},
        ),
        (
            {
                "status": "COMPLETE",
                "counts": {"CRITICAL": "many", "HIGH": -1, "BOGUS": 4, "LOW": True, "MEDIUM": 3},
                "blocking": "CVE-2024-1",
                "enhanced": "yes",
                "suppressed": [
                    {"id": "CVE-1", "package": None, "reason": "why", "extra": "dropped"},
                    {"id": "CVE-2"},
                    "CVE-3",
                ],
                "unknown": {"anything": 1},
            },
            {
                "status": "COMPLETE",
                "counts": {"MEDIUM": 3},
                "suppressed": [{"id": "CVE-1", "package": None, "reason": "why"}],
            },
        ),
    ],
    ids=[
        "every member kept",
        "no scan",
        "not an object",
        "no status",
        "status not text",
        "a failed scan keeps its error",
        "only known members of the right types",
    ],
)
def test_a_scan_fragment_keeps_only_known_members_of_the_right_types(
    raw: Any, kept: dict[str, Any] | None
) -> None:
    assert from_report.scan_fragment(raw) == kept


def test_each_image_carries_the_scan_fragment_of_its_report() -> None:
    web = image("web", scan=FULL_SCAN)
    unscanned = image("app", scan=None, gate="skipped")
    got = combine(
        [("r-app.json", report(unscanned)), ("r-web.json", report(web))],
        PLAN,
        REV,
        gated=False,
    )

    assert dict(got.scans) == {"web": FULL_SCAN}


def test_an_image_in_two_reports_carries_the_findings_of_the_one_that_blocked_it() -> None:
    got = combine(
        [("r-1.json", report(image("app"))), ("r-2.json", report(blocked_app(), status="blocked"))],
        PLAN[:1],
        REV,
        gated=True,
    )

    assert got.gated.decision == "block"
    assert got.scans["app"] == {
        "status": "COMPLETE",
        "counts": {"CRITICAL": 1},
        "blocking": ["CVE-2024-1"],
    }
