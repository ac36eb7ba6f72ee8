"""Patching a moto response class: handlers replace moto's by name and the undo puts
moto's back; only the sandbox's own account and region are "ours"; the error type keeps
its code and message and lives outside moto (so the called service's model decides)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pipeline.sandbox import moto_patch


class Response:
    """Stands for a moto response class: moto calls its functions by the call's name."""

    def describe(self) -> str:
        return "moto describe"

    def create(self) -> str:
        return "moto create"


def test_handlers_replace_moto_s_and_the_undo_puts_them_back() -> None:
    patch = moto_patch.Patch(Response, ("describe", "create"))
    seen: list[Any] = []

    def describe(response: Any) -> str:
        seen.append(response)
        return "ours, then " + patch.originals["describe"](response)

    undo = patch.install({"describe": describe})
    response = Response()
    assert response.describe() == "ours, then moto describe"
    assert seen == [response]  # the handler gets moto's response object
    assert response.create() == "moto create"  # not replaced: moto's
    undo()
    assert (response.describe(), response.create()) == ("moto describe", "moto create")


def test_a_handler_without_a_kept_original_is_refused() -> None:
    patch = moto_patch.Patch(Response, ("describe",))
    with pytest.raises(ValueError, match="create"):
        patch.install({"create": lambda _response: "x"})
    assert Response().create() == "moto create"


@pytest.mark.parametrize(
    ("account", "region", "ours"),
    [
        ("123456789012", "us-east-1", True),
        ("123456789012", "eu-west-1", False),
        ("210987654321", "us-east-1", False),
    ],
)
def test_only_the_sandbox_account_and_region_are_ours(
    account: str, region: str, ours: bool
) -> None:
    response = SimpleNamespace(current_account=account, region=region)
    assert moto_patch.ours(response, "123456789012", "us-east-1") is ours


def test_the_error_type_keeps_its_code_and_lives_outside_moto() -> None:
    from moto.core.exceptions import ServiceException

    error = moto_patch.error_type()
    assert issubclass(error, ServiceException)
    assert not error.__module__.startswith("moto")
    raised = error("RepositoryNotFoundException", "no such repository")
    assert (getattr(raised, "code", None), getattr(raised, "message", None)) == (
        "RepositoryNotFoundException",
        "no such repository",
    )
