"""HTTP/1.1 body framing, read from a buffered socket file in bounded pieces."""

from __future__ import annotations

from collections.abc import Iterator
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
