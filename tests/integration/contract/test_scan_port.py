"""The ScanApi port's contract: the scripted fake the scan unit tests use, and the ECR
adapter against the sandbox's emulated scanning, answer the same cases the same way.

Each side gets the same scan result its own way: the fake through its builders (as the
unit tests script it), the sandbox through its control channel before the image lands.
So the fake's pages cannot drift from what ECR answers (counts on every page, a
completion time and a description once a scan is done, basic findings' shape, an image
or repository ECR does not hold).

Enhanced scanning is a registry-wide setting, so its cases run on a sandbox of their own
whose registry is ENHANCED, with one SCAN_ON_PUSH rule; the shared sandbox stays BASIC.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from pipeline.adapters.ecr_scan import EcrScanApi
from pipeline.sandbox import Sandbox
from pipeline.scan.findings import Finding, Fix, counts
from pipeline.scan.ports import (
    ImageNotFound,
    ImageRef,
    LimitExceeded,
    RepositoryNotFound,
    ScanApi,
    ScanNotFound,
    ScanNotStartable,
    ScanSettings,
)
from tests.integration.contract.images import image, seed_real
from tests.integration.run.support import Token, ecr_client, ecr_token
from tests.integration.sandbox.support import RegistryHttp
from tests.integration.sandboxes import running_sandbox
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
    api = FakeScanApi(
        [ScanNotFound("no scan yet")], starts=["IN_PROGRESS"], repositories=set(), digests=set()
    )
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
        pushed = ImageRef(name, _fresh_digest())
        assert api.digests is not None
        api.digests.add(pushed.digest)
        return pushed

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


def test_findings_of_a_digest_the_repository_does_not_hold_are_image_not_found(
    world: World,
) -> None:
    held = world.push(world.repository(True), FINDINGS)
    unknown = ImageRef(held.repository, _fresh_digest())
    with pytest.raises(ImageNotFound, match=unknown.digest):
        world.port.findings_page(unknown)


def test_a_scan_of_a_digest_the_repository_does_not_hold_is_image_not_found(
    world: World,
) -> None:
    held = world.push(world.repository(False), FINDINGS)
    unknown = ImageRef(held.repository, _fresh_digest())
    with pytest.raises(ImageNotFound, match=unknown.digest):
        world.port.start_scan(unknown)
    # the image that is there can still be scanned: nothing was used up
    assert world.port.start_scan(held) in ("IN_PROGRESS", "PENDING", "COMPLETE")


def test_findings_in_a_repository_that_does_not_exist_are_repository_not_found(
    world: World,
) -> None:
    world.repository(True)
    missing = ImageRef(f"contract/scan-missing-{uuid.uuid4().hex[:8]}", _fresh_digest())
    with pytest.raises(RepositoryNotFound, match=missing.repository):
        world.port.findings_page(missing)
    with pytest.raises(RepositoryNotFound, match=missing.repository):
        world.port.start_scan(missing)


# -- enhanced scanning (Amazon Inspector), a registry-wide setting ------------------------

#: repositories named so are scanned on push by the ENHANCED registry's one rule
RULED = "contract/enhanced-"
RULES = [
    {
        "scanFrequency": "SCAN_ON_PUSH",
        "repositoryFilters": [{"filter": f"{RULED}*", "filterType": "WILDCARD"}],
    }
]
#: (id, severity, package, version, fixed in) of each Inspector finding
EnhancedSpec = tuple[str, str, str, str, str]
INSPECTOR: list[EnhancedSpec] = [
    ("CVE-2026-1001", "CRITICAL", "openssl", "3.0.1", "3.0.2"),
    ("CVE-2026-1002", "MEDIUM", "zlib", "1.2.11", "1.2.12"),
]


@dataclass
class EnhancedWorld:
    """One side of the enhanced contract: the port, a repository maker (True: one the
    registry's rule matches) and an image pusher whose scan returns Inspector findings."""

    port: ScanApi
    repository: Callable[[bool], str]
    push: Callable[[str, list[EnhancedSpec]], ImageRef]


def _inspected(specs: list[EnhancedSpec]) -> tuple[Finding, ...]:
    return tuple(
        finding(i, s, package=p, version=v, fixed_in=f, fix=Fix.YES, status="ACTIVE")
        for i, s, p, v, f in specs
    )


def _fake_enhanced() -> EnhancedWorld:
    api = FakeScanApi(
        [ScanNotFound("no scan yet")],
        settings_value=ScanSettings(enhanced=True, on_push=True),
        repositories=set(),
        digests=set(),
    )
    refused = "ECR StartImageScan: ValidationException: this registry is configured for enhanced"
    api.starts = [ScanNotStartable(refused)]

    def repository(ruled: bool) -> str:
        name = f"{RULED if ruled else 'contract/plain-'}{uuid.uuid4().hex[:8]}"
        assert api.repositories is not None
        api.repositories.add(name)
        if not ruled:
            api.settings_error = [ScanNotStartable(f"enhanced scanning does not scan {name}")]
        return name

    def push(name: str, specs: list[EnhancedSpec]) -> ImageRef:
        api.script = [page("COMPLETE", _inspected(specs), enhanced=True)]
        pushed = ImageRef(name, _fresh_digest())
        assert api.digests is not None
        api.digests.add(pushed.digest)
        return pushed

    return EnhancedWorld(api, repository, push)


def _real_enhanced(handle: Sandbox) -> EnhancedWorld:
    env = handle.env()
    ecr = ecr_client(env)
    token = ecr_token(ecr)
    host = env["PIPELINE_REGISTRY_HOST"]
    raw = RegistryHttp(host, token.username, token.password)

    def repository(ruled: bool) -> str:
        name = f"{RULED if ruled else 'contract/plain-'}{uuid.uuid4().hex[:8]}"
        # the repository's own flag is superseded by the registry's rules under ENHANCED
        ecr.create_repository(repositoryName=name, imageScanningConfiguration={"scanOnPush": True})
        return name

    def push(name: str, specs: list[EnhancedSpec]) -> ImageRef:
        found = [
            {
                "findingArn": f"arn:aws:inspector2:{env['AWS_REGION']}:123456789012:finding/{i}",
                "severity": s,
                "status": "ACTIVE",
                "fixAvailable": "YES",
                "packageVulnerabilityDetails": {
                    "vulnerabilityId": i,
                    "vulnerablePackages": [{"name": p, "version": v, "fixedInVersion": f}],
                },
            }
            for i, s, p, v, f in specs
        ]
        handle.act(
            "findings", {"repository": name, "status": "COMPLETE", "enhancedFindings": found}
        )
        manifest = seed_real(raw, host, name, "v1", {"contract": uuid.uuid4().hex})
        return ImageRef(name, manifest.digest)

    return EnhancedWorld(EcrScanApi(ecr, page_size=PAGE), repository, push)


@pytest.fixture(scope="module")
def enhanced_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """A sandbox whose registry scans with Inspector (the shared one stays BASIC)."""
    for box in running_sandbox(tmp_path_factory, "enhanced-sandbox"):
        ecr_client(box.env()).put_registry_scanning_configuration(scanType="ENHANCED", rules=RULES)
        yield box


@pytest.fixture(params=["fake", "real"])
def enhanced(request: pytest.FixtureRequest) -> EnhancedWorld:
    if request.param == "fake":
        return _fake_enhanced()
    handle: Sandbox = request.getfixturevalue("enhanced_sandbox")
    return _real_enhanced(handle)


def test_enhanced_settings_of_a_repository_a_rule_matches_say_enhanced_and_on_push(
    enhanced: EnhancedWorld,
) -> None:
    name = enhanced.repository(True)
    assert enhanced.port.settings(name) == ScanSettings(enhanced=True, on_push=True)


def test_enhanced_settings_of_a_repository_no_rule_matches_say_it_cannot_be_scanned(
    enhanced: EnhancedWorld,
) -> None:
    name = enhanced.repository(False)
    with pytest.raises(ScanNotStartable, match=name):
        enhanced.port.settings(name)


def test_an_enhanced_scan_page_carries_inspector_findings_and_no_basic_list(
    enhanced: EnhancedWorld,
) -> None:
    image = enhanced.push(enhanced.repository(True), INSPECTOR)
    first = enhanced.port.findings_page(image)
    assert first.status == "COMPLETE"
    assert first.description and first.completed_at is not None
    assert (first.has_basic, first.has_enhanced) == (False, True)
    assert first.findings == _inspected(INSPECTOR)
    assert first.severity_counts == {"CRITICAL": 1, "MEDIUM": 1}
    assert first.next_token is None


def test_enhanced_scanning_refuses_to_start_a_scan(enhanced: EnhancedWorld) -> None:
    image = enhanced.push(enhanced.repository(True), INSPECTOR)
    with pytest.raises(ScanNotStartable, match=r"(?i)enhanced"):
        enhanced.port.start_scan(image)
