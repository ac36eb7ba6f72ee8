"""Errors as the API answers them: a meta/v1 Status with the HTTP code and a reason.

kubectl and the Python client print `message` and branch on `reason` and
`code` (NotFound, AlreadyExists, Conflict, Invalid, ...), so these follow the
real server's wording.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """One failed request; `body()` is the Status the client receives."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            status["details"] = self.details
        return status


def resource_name(kind: str, group: str) -> str:
    """`deployments.apps` as messages name it; core resources have no group."""
    return f"{kind}.{group}" if group else kind


def not_found(kind: str, group: str, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{resource_name(kind, group)} "{name}" not found',
        {"name": name, "group": group, "kind": kind} if group else {"name": name, "kind": kind},
    )


def already_exists(kind: str, group: str, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{resource_name(kind, group)} "{name}" already exists',
        {"name": name, "group": group, "kind": kind},
    )


def conflict(kind: str, group: str, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource_name(kind, group)} "{name}": the object '
        "has been modified; please apply your changes to the latest version and try again",
        {"name": name, "group": group, "kind": kind},
    )


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """causes: (field, reason, message), e.g. ("spec.replicas", "FieldValueInvalid", ...)."""
    title = {"deployments": "Deployment", "namespaces": "Namespace"}.get(kind, kind)
    shown = "apps" if group else ""
    listing = ", ".join(f"{f}: {m}" for f, _, m in causes)
    qualified = f"{title}.{shown}" if shown else title
    return ApiError(
        422,
        "Invalid",
        f'{qualified} "{name}" is invalid: {listing}',
        {
            "name": name,
            "group": group,
            "kind": title,
            "causes": [{"reason": r, "message": m, "field": f} for f, r, m in causes],
        },
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def unauthorized(why: str) -> ApiError:
    return ApiError(401, "Unauthorized", f"Unauthorized: {why}")
