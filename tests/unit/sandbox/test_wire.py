"""HTTP body framing: Content-Length and chunked bodies, read in bounded pieces."""

from __future__ import annotations

import io
from email.message import Message

import pytest

from pipeline.sandbox.wire import BodyRefused, content_length, read_chunked, read_exactly


def test_exact_length_in_pieces() -> None:
    pieces = list(read_exactly(io.BytesIO(b"abcdefghij-rest"), 10, 4))
    assert pieces == [b"abcd", b"efgh", b"ij"]


def test_a_short_body_is_an_error() -> None:
    with pytest.raises(EOFError):
        list(read_exactly(io.BytesIO(b"abc"), 10, 4))


def test_chunked_with_extensions_and_trailers() -> None:
    raw = b"5;name=x\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT"
    stream = io.BytesIO(raw)
    assert b"".join(read_chunked(stream, 4)) == b"hello0123456789"
    assert stream.read() == b"NEXT"  # the next request starts right after


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"zz\r\n", ValueError),
        (b"5\r\nhel", EOFError),
        (b"5\r\nhelloXX\r\n0\r\n\r\n", ValueError),
        (b"5", EOFError),
    ],
)
def test_broken_chunked_bodies(raw: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        list(read_chunked(io.BytesIO(raw), 4))


def _headers(*pairs: tuple[str, str]) -> Message:
    headers = Message()
    for name, value in pairs:
        headers[name] = value
    return headers


@pytest.mark.parametrize(
    ("pairs", "status"),
    [
        ((), 411),
        ((("Transfer-Encoding", "chunked"),), 411),
        ((("Content-Length", "-1"),), 400),
        ((("Content-Length", "+5"),), 400),
        ((("Content-Length", "1e3"),), 400),
        ((("Content-Length", " "),), 400),
        ((("Content-Length", "5"), ("Content-Length", "6")), 400),
        ((("Content-Length", "99999999999999999999999"),), 400),
        ((("Content-Length", "1025"),), 413),
    ],
)
def test_lengths_refused_before_reading(pairs: tuple[tuple[str, str], ...], status: int) -> None:
    with pytest.raises(BodyRefused) as refused:
        content_length(_headers(*pairs), limit=1024)
    assert refused.value.status == status


@pytest.mark.parametrize("value", ["0", "1024", " 12 ", "007"])
def test_lengths_accepted(value: str) -> None:
    assert content_length(_headers(("Content-Length", value)), limit=1024) == int(value)
