"""The ScanApi port's contract: the scripted fake the scan unit tests use, and the ECR
adapter against the sandbox's emulated scanning, answer the same cases the same way.

Each side gets the same scan result its own way: the fake through its builders (as the
unit tests script it), the sandbox through its control channel before the image lands.
So the fake's pages cannot drift from what ECR answers (counts on every page, a
completion time and a description once a scan is done, basic findings' shape).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from pipeline.adapters.ecr_scan import EcrScanApi
from pipeline.sandbox import Sandbox
from pipeline.scan.findings import Finding, counts
from pipeline.scan.ports import (
    ImageRef,
    LimitExceeded,
    RepositoryNotFound,
    ScanApi,
    ScanNotFound,
    ScanSettings,
)
from tests.integration.contract.images import image, seed_real
from tests.integration.run.support import Token
from tests.integration.sandbox.support import RegistryHttp
from tests.unit.scan.fakes import FakeScanApi, finding, page

PAGE = 100

#: (id, severity, package, version) of each finding a scan returns
Spec = tuple[str, str, str, str]


@dataclass
class World:
    """One side of the contract: the port, a repository maker, and an image pusher
    whose next scan returns the given findings."""

    port: ScanApi
    repository: Callable[[bool], str]
    push: Callable[[str, list[Spec]], ImageRef]


def _expected(specs: list[Spec]) -> tuple[Finding, ...]:
    return tuple(finding(i, s, package=p, version=v) for i, s, p, v in specs)


def _fresh_digest() -> str:
    return image({"contract": uuid.uuid4().hex})[1].digest


def _fake() -> World:
    api = FakeScanApi([ScanNotFound("no scan yet")], starts=["IN_PROGRESS"], repositories=set())
    on_push: dict[str, bool] = {}

    def repository(scan_on_push: bool) -> str:
        name = f"contract/scan-{uuid.uuid4().hex[:8]}"
        on_push[name] = scan_on_push
        assert api.repositories is not None
        api.repositories.add(name)
        api.settings_value = ScanSettings(enhanced=False, on_push=scan_on_push)
        return name

    def push(name: str, specs: list[Spec]) -> ImageRef:
        found = _expected(specs)
        chunks = [found[i : i + PAGE] for i in range(0, len(found), PAGE)] or [()]
        # ECR repeats the totals over every page on each page
        totals = counts(found)
        pages = [
            page(
                "COMPLETE",
                chunk,
                counts=totals,
                next_token=f"t{n + 1}" if n + 1 < len(chunks) else None,
            )
            for n, chunk in enumerate(chunks)
        ]
        api.pages = {f"t{n}": p for n, p in enumerate(pages) if n}
        if on_push[name]:
            api.script = [pages[0]]
        else:
            api.script = [ScanNotFound(f"no scan of {name}"), pages[0]]
            api.starts = ["IN_PROGRESS", LimitExceeded("one scan per image per day")]
        return ImageRef(name, _fresh_digest())

    return World(api, repository, push)


def _real(sandbox: dict[str, str], handle: Sandbox, ecr: Any, token: Token) -> World:
    host = sandbox["PIPELINE_REGISTRY_HOST"]
    raw = RegistryHttp(host, token.username, token.password)

    def repository(scan_on_push: bool) -> str:
        name = f"contract/scan-{uuid.uuid4().hex[:8]}"
        ecr.create_repository(
            repositoryName=name, imageScanningConfiguration={"scanOnPush": scan_on_push}
        )
        return name

    def push(name: str, specs: list[Spec]) -> ImageRef:
        findings = [
            {
                "name": i,
                "severity": s,
                "attributes": [
                    {"key": "package_name", "value": p},
                    {"key": "package_version", "value": v},
                ],
            }
            for i, s, p, v in specs
        ]
        handle.act("findings", {"repository": name, "status": "COMPLETE", "findings": findings})
        manifest = seed_real(raw, host, name, "v1", {"contract": uuid.uuid4().hex})
        return ImageRef(name, manifest.digest)

    return World(EcrScanApi(ecr, page_size=PAGE), repository, push)


@pytest.fixture(params=["fake", "real"])
def world(
    request: pytest.FixtureRequest,
    sandbox: dict[str, str],
    sandbox_handle: Sandbox,
    ecr: Any,
    token: Token,
) -> Iterator[World]:
    yield _fake() if request.param == "fake" else _real(sandbox, sandbox_handle, ecr, token)


FINDINGS: list[Spec] = [
    ("CVE-2026-0001", "CRITICAL", "openssl", "3.0.1"),
    ("CVE-2026-0002", "HIGH", "zlib", "1.2.11"),
    ("CVE-2026-0003", "HIGH", "busybox", "1.36.1"),
]


@pytest.mark.parametrize("on_push", [True, False])
def test_settings_say_whether_a_repository_scans_on_push(world: World, on_push: bool) -> None:
    name = world.repository(on_push)
    assert world.port.settings(name) == ScanSettings(enhanced=False, on_push=on_push)


def test_a_complete_scan_page_carries_findings_counts_and_its_completion(world: World) -> None:
    image = world.push(world.repository(True), FINDINGS)
    first = world.port.findings_page(image)
    assert first.status == "COMPLETE"
    assert first.description  # ECR always says something about the status
    assert first.completed_at is not None
    assert first.findings == _expected(FINDINGS)
    assert (first.has_basic, first.has_enhanced) == (True, False)
    assert first.severity_counts == {"CRITICAL": 1, "HIGH": 2}
    assert first.next_token is None


def test_a_clean_scan_is_a_complete_page_with_an_empty_basic_list(world: World) -> None:
    image = world.push(world.repository(True), [])
    clean = world.port.findings_page(image)
    assert clean.status == "COMPLETE"
    assert clean.completed_at is not None
    assert clean.findings == ()
    assert (clean.has_basic, clean.has_enhanced) == (True, False)
    assert clean.severity_counts == {}
    assert clean.next_token is None


def test_findings_beyond_a_page_follow_the_token_with_totals_on_every_page(
    world: World,
) -> None:
    specs = [(f"CVE-2026-{n:04d}", "MEDIUM", "pkg", "1.0") for n in range(230)]
    image = world.push(world.repository(True), specs)
    pages = [world.port.findings_page(image)]
    while pages[-1].next_token is not None:
        assert len(pages) < 10, "the token never ends"
        pages.append(world.port.findings_page(image, pages[-1].next_token))
    assert [len(p.findings) for p in pages] == [100, 100, 30]
    assert [f for p in pages for f in p.findings] == list(_expected(specs))
    assert all(p.severity_counts == {"MEDIUM": 230} for p in pages)
    assert all(p.status == "COMPLETE" and p.completed_at is not None for p in pages)


def test_a_manual_repository_has_no_scan_until_one_is_started(world: World) -> None:
    image = world.push(world.repository(False), FINDINGS)
    with pytest.raises(ScanNotFound):
        world.port.findings_page(image)
    # ECR answers IN_PROGRESS (or, with an instant scan, its final status)
    assert world.port.start_scan(image) in ("IN_PROGRESS", "PENDING", "COMPLETE")
    done = world.port.findings_page(image)
    assert done.status == "COMPLETE"
    assert done.findings == _expected(FINDINGS)
    assert done.severity_counts == {"CRITICAL": 1, "HIGH": 2}
    with pytest.raises(LimitExceeded):
        world.port.start_scan(image)


def test_settings_of_a_repository_that_does_not_exist_say_so(world: World) -> None:
    world.repository(True)
    missing = f"contract/scan-missing-{uuid.uuid4().hex[:8]}"
    with pytest.raises(RepositoryNotFound, match=missing):
        world.port.settings(missing)
