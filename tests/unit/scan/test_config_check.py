"""scan.enabled on a registry without a scan API is a configuration error."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.config.schema import Config
from pipeline.scan.config_check import applies, problems

GENERIC = {"type": "generic", "url": "ghcr.io/acme"}
PUBLIC = {"type": "ecr-public", "alias": "acme"}
ECR = {"type": "ecr", "account": "123456789012", "region": "us-east-1"}
IMAGES = [{"name": "app", "repository": "acme/app"}]


@pytest.mark.parametrize(
    ("registry", "scan", "expected"),
    [
        (GENERIC, {"enabled": True}, [(("scan", "enabled"), "generic")]),
        (PUBLIC, {"enabled": True}, [(("scan", "enabled"), "ecr-public")]),
        (GENERIC, {"thresholds": {"critical": 0}}, [(("scan",), "generic")]),
        (GENERIC, {"enabled": False, "thresholds": {"critical": 0}}, []),
        (GENERIC, None, []),
        (ECR, {"enabled": True}, []),
        (None, {"enabled": True}, []),  # ecr is the default registry type
    ],
)
def test_scanning_needs_a_scan_api(
    registry: dict[str, Any] | None, scan: dict[str, Any] | None, expected: list[tuple[Any, str]]
) -> None:
    root: dict[str, Any] = {"version": 1, "images": IMAGES}
    if registry is not None:
        root["registry"] = registry
    if scan is not None:
        root["scan"] = scan
    found = list(problems(root))
    assert [path for path, _ in found] == [path for path, _ in expected]
    for (_, message), (_, kind) in zip(found, expected, strict=True):
        assert f"registry type {kind} has no scan API" in message
        assert "scan.enabled: false" in message


@pytest.mark.parametrize("root", [None, [], "text", {"registry": "ecr", "scan": []}])
def test_malformed_files_are_left_to_the_schema(root: Any) -> None:
    assert list(problems(root)) == []


@pytest.mark.parametrize(
    ("registry", "scan", "expected"),
    [
        (ECR, {}, True),
        (ECR, {"enabled": False}, False),
        (GENERIC, {}, False),
        (PUBLIC, {}, False),
    ],
)
def test_whether_a_run_scans(
    registry: dict[str, Any], scan: dict[str, Any], expected: bool
) -> None:
    config = Config.model_validate(
        {"version": 1, "registry": registry, "images": IMAGES, "scan": scan}
    )
    assert applies(config) is expected


def test_the_problem_is_located_in_the_file_once_wired_into_the_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.config import checks, load
    from pipeline.errors import ConfigError

    run_all = checks.run_all
    monkeypatch.setattr(
        checks, "run_all", lambda data, folder=None: [*run_all(data, folder), *problems(data)]
    )
    text = (
        "version: 1\n"
        "registry: {type: generic, url: ghcr.io/acme}\n"
        "images: [{name: app, repository: acme/app}]\n"
        "scan:\n"
        "  enabled: true\n"
    )
    with pytest.raises(ConfigError) as err:
        load.loads(text)
    assert str(err.value).startswith(
        "pipeline.yaml:5:12: scan.enabled: registry type generic has no scan API"
    )
