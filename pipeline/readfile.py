"""Read an input file the pipeline is pointed at: a regular file, of bounded size.

A config, a lifecycle policy or an event payload that is really a FIFO would
block a run forever, `/dev/zero` would never end, and a gigabyte file would
exhaust memory before any rule could judge it. So the file is opened without
blocking, checked with `fstat` on the open descriptor (no race with a rename
in between), and read up to its limit and no further.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_FLAGS |= getattr(os, "O_NOCTTY", 0)


class UnreadableFile(ValueError):
    """The file is missing, not a regular file, or larger than its limit.

    The message says why, without the path: callers name the file their way.
    """


def size_text(count: int) -> str:
    if count >= 1 << 20 and count % (1 << 20) == 0:
        return f"{count >> 20} MiB"
    if count >= 1 << 10 and count % (1 << 10) == 0:
        return f"{count >> 10} KiB"
    return f"{count} bytes"


def kind_of(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of `path`, which must be a regular file of at most `limit` bytes."""
    try:
        fd = os.open(Path(path), _FLAGS)
    except FileNotFoundError:
        raise
    except OSError as err:
        raise UnreadableFile(err.strerror or str(err)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableFile(f"not a regular file: it is {kind_of(info.st_mode)}")
        if info.st_size > limit:
            raise UnreadableFile(
                f"too large: {size_text(info.st_size)}, and the limit is {size_text(limit)}"
            )
        chunks: list[bytes] = []
        total = 0
        while total <= limit:  # the file may grow after fstat: read one byte past the limit
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise UnreadableFile(f"too large: more than {size_text(limit)}")
        return b"".join(chunks)
    except OSError as err:
        raise UnreadableFile(err.strerror or str(err)) from None
    finally:
        os.close(fd)


def problem(path: str | os.PathLike[str], limit: int) -> str | None:
    """Why `path` is not a regular file of at most `limit` bytes (symlinks followed); None if it is.

    For files read by another program (a build secret, read by BuildKit): checked,
    not read.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except (OSError, ValueError) as err:
        return getattr(err, "strerror", None) or str(err)
    if not stat.S_ISREG(info.st_mode):
        return f"not a regular file: it is {kind_of(info.st_mode)}"
    if info.st_size > limit:
        return f"too large: {size_text(info.st_size)}, and the limit is {size_text(limit)}"
    return None


def position(data: bytes | str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of `offset` in `data`; columns count characters."""
    if isinstance(data, bytes):
        line = data.count(b"\n", 0, offset) + 1
        start = data.rfind(b"\n", 0, offset) + 1
        column = len(data[start:offset].decode("utf-8", "replace"))
    else:
        line = data.count("\n", 0, offset) + 1
        start = data.rfind("\n", 0, offset) + 1
        column = offset - start
    return line, column + 1
