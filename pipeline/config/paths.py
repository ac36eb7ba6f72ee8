"""Paths named in the config stay inside the repository, once symlinks are followed.

A config is shared code: whoever can change it (a pull request, say) must not
be able to point a build context at `/root`, a Dockerfile at `/dev/zero`, or a
report at `/etc/cron.d/x`. The repository is the git work tree that holds the
config file (found by its `.git`, without running git), else the config's
folder. Secret files may live anywhere (runners keep them in a temp folder),
and paths given on the command line are the caller's choice.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pipeline.readfile import kind_of


def repository_root(folder: Path) -> Path:
    """The git top-level directory containing `folder`, else `folder` (both resolved)."""
    folder = folder.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def shown(value: str) -> str:
    """`value` as a message quotes it: repr, and cut when long."""
    return repr(value if len(value) <= 80 else value[:77] + "...")


def plain(value: str) -> str:
    """`value` as a message names it: as written when short and printable (one line)."""
    cut = value if len(value) <= 80 else value[:77] + "..."
    return cut if cut.isprintable() else repr(cut)


def resolve(base: Path, value: str) -> Path:
    """`value` relative to `base` (absolute values stay), every symlink followed.

    ValueError when the path cannot be used at all (a NUL, a name too long,
    a symlink loop).
    """
    if "\0" in value:
        raise ValueError("it contains a NUL character")
    try:
        return (base / value).resolve()
    except (OSError, RuntimeError) as err:
        raise ValueError(getattr(err, "strerror", None) or str(err)) from None


def outside(root: Path, path: Path, value: str) -> str | None:
    """A problem when the resolved `path` (written `value`) is not inside `root`."""
    if path == root or path.is_relative_to(root):
        return None
    where = str(path) if len(str(path)) <= 120 else str(path)[:117] + "..."
    return (
        f"{shown(value)} leads outside the repository ({root}): it resolves to {where};"
        " paths in the config must stay inside the repository"
    )


def kind(path: Path) -> str | None:
    """What `path` is ("a directory", "a regular file", "a FIFO (named pipe)"...); None if
    there is nothing there (or nothing that can be reached)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return "a regular file" if stat.S_ISREG(mode) else kind_of(mode)
