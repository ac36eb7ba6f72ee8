"""What a proxy hook sees (Request, Response) and what it may decide (a Verdict)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import Message
from typing import Protocol
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query, as the client sent them
    headers: Message

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def chunked(self) -> bool:
        return "chunked" in self.headers.get("Transfer-Encoding", "").lower()

    @property
    def has_body(self) -> bool:
        return self.chunked or int(self.headers.get("Content-Length") or 0) > 0


@dataclass(frozen=True)
class Response:
    status: int
    headers: Message


@dataclass(frozen=True)
class Answer:
    """Reply with this instead of forwarding."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Reset:
    """Close the client connection with a TCP RST, before or after reading the body."""

    after_body: bool = False


@dataclass(frozen=True)
class Stall:
    """Wait this long, then go on with the next hook (and forward)."""

    seconds: float


Verdict = Answer | Reset | Stall | None


class Hook(Protocol):
    def before(self, request: Request) -> Verdict: ...

    def after(self, request: Request, response: Response) -> None: ...


def error_answer(
    status: int, code: str, message: str, headers: tuple[tuple[str, str], ...] = ()
) -> Answer:
    """An answer in the registry's error format, as docker prints it."""
    body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]})
    return Answer(
        status,
        body.encode(),
        (
            ("Content-Type", "application/json; charset=utf-8"),
            ("Docker-Distribution-API-Version", "registry/2.0"),
            *headers,
        ),
    )
