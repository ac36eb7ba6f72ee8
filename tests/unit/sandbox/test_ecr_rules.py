"""EcrRules: ECR's answers where the registry's differ, for authenticated clients."""

from __future__ import annotations

import base64
import json
from email.message import Message

import pytest

from pipeline.sandbox.ecr_rules import EcrRules
from pipeline.sandbox.sync import Bridge
from pipeline.sandbox.verdicts import Answer, Request, Response
from tests.unit.sandbox.fakes import FakeRegistry, ecr_state, manifest

PASSWORD = "s3cret-token"


def _rules() -> EcrRules:
    ecr = ecr_state(
        ("app/web", "IMMUTABLE_WITH_EXCLUSION", ["latest"]), ("app/empty", "MUTABLE", [])
    )
    bridge = Bridge(ecr, FakeRegistry())  # type: ignore[arg-type]
    for tag in ("1", "latest"):
        bridge.put_image("app/web", manifest(tag), tag, None, None)
    return EcrRules(bridge, PASSWORD, wait=0)


def _request(method: str, path: str, password: str | None = PASSWORD) -> Request:
    headers = Message()
    if password is not None:
        token = base64.b64encode(f"AWS:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return Request(method, path, headers)


def _error(verdict: object) -> tuple[int, str, str]:
    assert isinstance(verdict, Answer)
    error = json.loads(verdict.body)["errors"][0]
    return verdict.status, error["code"], error["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v2/app/nope/blobs/uploads/"),
        ("PATCH", "/v2/app/nope/blobs/uploads/abc"),
        ("PUT", "/v2/app/nope/manifests/1"),
        ("GET", "/v2/app/nope/tags/list"),
        ("HEAD", "/v2/app/nope/blobs/sha256:abc"),
    ],
)
def test_a_repository_ecr_lacks_is_name_unknown(method: str, path: str) -> None:
    message = (
        "The repository with name 'app/nope' does not exist in the registry with id '123456789012'"
    )
    assert _error(_rules().before(_request(method, path))) == (404, "NAME_UNKNOWN", message)


@pytest.mark.parametrize("password", [None, "wrong"])
def test_without_the_password_the_registry_answers(password: str | None) -> None:
    assert _rules().before(_request("POST", "/v2/app/nope/blobs/uploads/", password)) is None


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ("/v2/app/web/manifests/1", True),
        ("/v2/app/web/manifests/latest", False),  # excluded from immutability
        ("/v2/app/web/manifests/2", False),  # a new tag
        ("/v2/app/web/manifests/sha256:" + "a" * 64, False),  # by digest: no tag moves
    ],
)
def test_immutable_tags(path: str, refused: bool) -> None:
    verdict = _rules().before(_request("PUT", path))
    if refused:
        message = (
            "The image tag '1' already exists in the 'app/web' repository "
            "and cannot be overwritten because the repository is immutable."
        )
        assert _error(verdict) == (400, "TAG_INVALID", message)
    else:
        assert verdict is None


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ("/v2/app/web/manifests/sha256:" + "a" * 64, True),
        ("/v2/app/web/manifests/1", True),
        ("/v2/app/web/blobs/sha256:" + "a" * 64, True),
        ("/v2/app/web/blobs/uploads/0f1e2d", False),  # cancelling an upload is fine
    ],
)
def test_deletes_go_through_the_ecr_api(path: str, refused: bool) -> None:
    verdict = _rules().before(_request("DELETE", path))
    if refused:
        assert _error(verdict)[:2] == (405, "UNSUPPORTED")
    else:
        assert verdict is None


def test_an_empty_repository_lists_no_tags() -> None:
    rules = _rules()
    verdict = rules.before(_request("GET", "/v2/app/empty/tags/list"))
    assert isinstance(verdict, Answer)
    assert json.loads(verdict.body) == {"name": "app/empty", "tags": []}
    assert rules.before(_request("GET", "/v2/app/web/tags/list")) is None


def test_after_a_manifest_put_waits_for_ecr(caplog: pytest.LogCaptureFixture) -> None:
    rules = _rules()
    recorded = rules.bridge.ecr.tag_digest("app/web", "1")
    headers = Message()
    headers["Docker-Content-Digest"] = str(recorded)
    rules.after(_request("PUT", "/v2/app/web/manifests/1"), Response(201, headers))
    assert caplog.records == []
    headers.replace_header("Docker-Content-Digest", "sha256:" + "f" * 64)
    rules.after(_request("PUT", "/v2/app/web/manifests/1"), Response(201, headers))
    assert "ECR has not recorded the push" in caplog.text
