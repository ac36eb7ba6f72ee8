"""The credential-helper protocol on stdin/stdout (docker-credential-helpers).

`get`: a server URL on stdin; {"ServerURL","Username","Secret"} on stdout, or
`credentials not found in native keychain` and exit 1 for a host not served.
`list`: {} (tokens are fetched when asked, none is stored). `store`, `erase`:
read their input and do nothing. Errors go to stdout too (docker shows what
the helper printed), never with a token in them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from typing import IO

from pipeline.adapters.ports import Credentials
from pipeline.credhelper.hosts import NOT_FOUND, Served, served
from pipeline.errors import PipelineError

#: fetches the credentials for a served host (the ECR adapter; a fake in tests)
Fetch = Callable[[Served], Credentials]

_MAX_INPUT = 64 * 1024


def ecr_fetch(target: Served) -> Credentials:
    from pipeline.adapters import ecr

    if target.kind == "public":
        return ecr.public_token(target.host)()
    return ecr.private_token(target.region, target.host)()


def run(
    argv: list[str],
    stdin: IO[str],
    stdout: IO[str],
    env: Mapping[str, str],
    fetch: Fetch = ecr_fetch,
) -> int:
    if len(argv) != 1 or argv[0] not in ("get", "list", "store", "erase", "version"):
        stdout.write("usage: docker-credential-pipeline get|list|store|erase|version\n")
        return 2
    action = argv[0]
    if action == "version":
        from pipeline import __version__

        stdout.write(f"docker-credential-pipeline {__version__}\n")
        return 0
    text = stdin.read(_MAX_INPUT)
    if action in ("store", "erase"):
        return 0  # nothing is kept: every `get` fetches a fresh token
    if action == "list":
        stdout.write("{}\n")
        return 0
    target = served(text, env)
    if target is None:
        stdout.write(NOT_FOUND + "\n")
        return 1
    try:
        # the adapters announce masks on stdout in GitHub Actions: keep our
        # stdout for the answer alone
        with contextlib.redirect_stdout(sys.stderr):
            creds = fetch(target)
    except PipelineError as err:
        stdout.write(f"docker-credential-pipeline: {target.host}: {err}\n")
        return 1
    answer = {"ServerURL": text.strip(), "Username": creds.username, "Secret": creds.password}
    stdout.write(json.dumps(answer) + "\n")
    return 0


def entry() -> None:
    """The console script `docker-credential-pipeline`."""
    try:
        code = run(sys.argv[1:], sys.stdin, sys.stdout, os.environ)
    except KeyboardInterrupt:
        code = 130
    sys.stdout.flush()
    raise SystemExit(code)
