"""HTTP/1.1 body framing, read from a buffered socket file in bounded pieces."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message
from typing import Protocol

_MAX_LINE = 65536


class Reader(Protocol):
    def read(self, size: int, /) -> bytes: ...

    def readline(self, size: int, /) -> bytes: ...


def read_exactly(rfile: Reader, length: int, chunk: int) -> Iterator[bytes]:
    """A Content-Length body, in pieces of at most `chunk` bytes."""
    remaining = length
    while remaining > 0:
        piece = rfile.read(min(remaining, chunk))
        if not piece:
            raise EOFError(f"body ended {remaining} bytes early")
        remaining -= len(piece)
        yield piece


def read_chunked(rfile: Reader, chunk: int) -> Iterator[bytes]:
    """A chunked body (RFC 9112 7.1), decoded, in pieces of at most `chunk` bytes."""
    while True:
        line = rfile.readline(_MAX_LINE)
        if not line.endswith(b"\n"):
            raise EOFError("chunked body ended inside a chunk header")
        size = int(line.split(b";", 1)[0].strip(), 16)  # ValueError on garbage
        if size == 0:
            break
        yield from read_exactly(rfile, size, chunk)
        if rfile.readline(_MAX_LINE).strip():
            raise ValueError("chunk data not followed by CRLF")
    while rfile.readline(_MAX_LINE).strip():
        pass  # trailers: nothing we forward needs them


class BodyRefused(Exception):
    """A request body the server will not read; `status` is the answer to give."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


_DIGITS = re.compile(r"[0-9]{1,19}")


def content_length(headers: Message, limit: int) -> int:
    """The declared length of a request body, refused before a byte of it is read.

    Only plain Content-Length bodies of at most `limit` bytes are accepted: a
    negative length would make `rfile.read` wait for EOF, which a client that
    keeps its connection open never sends, and chunked bodies have no length
    to check up front.
    """
    if headers.get("Transfer-Encoding") is not None:
        raise BodyRefused(411, "a Content-Length is required (no Transfer-Encoding)")
    values = headers.get_all("Content-Length") or []
    if not values:
        raise BodyRefused(411, "a Content-Length is required")
    if len(set(values)) != 1 or not _DIGITS.fullmatch(values[0].strip()):
        raise BodyRefused(400, "the Content-Length is not a single non-negative integer")
    length = int(values[0])
    if length > limit:
        raise BodyRefused(413, f"the body ({length} bytes) is larger than {limit} bytes")
    return length
