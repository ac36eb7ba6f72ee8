"""Credentials for generic registries: named env vars, else the user's docker config.

Values are masked the moment they are read, in every form they travel in.
Credential helpers are asked over stdin, so nothing lands on a command line.
Messages name variables and files, never a value: a `password_env` that was
written as `${REG_PASS}` holds the password itself, so a name is shown only
when it is a variable's name and not some variable's value.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import stat
import subprocess
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline import log
from pipeline.adapters.ports import Credentials
from pipeline.errors import UsageError

_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_HELPER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_MAX_CONFIG = 1 << 20  # a docker config is a few KiB; refuse to read a huge one
_MAX_HELPER_OUTPUT = 1 << 16


class Static:
    """Credentials that do not expire (or none at all: anonymous access)."""

    def __init__(self, creds: Credentials | None) -> None:
        self._creds = creds

    def get(self) -> Credentials | None:
        return self._creds

    def refresh(self) -> Credentials | None:
        return self._creds


def _named(key: str, name: str, env: Mapping[str, str]) -> str:
    """How a message refers to the variable that `registry.<key>` names."""
    looks_like_a_value = any(value == name for value in env.values())
    if _VARIABLE.match(name) and not looks_like_a_value:
        return f"{name} (named by registry.{key})"
    # Not a name (or the value of some variable: `${VAR}` was interpolated).
    return f"the variable named by registry.{key} (not shown: it is not a variable name)"


def from_env(host: str, user_var: str, password_var: str, env: Mapping[str, str]) -> Credentials:
    problems = []
    for key, name in (("username_env", user_var), ("password_env", password_var)):
        if not _VARIABLE.match(name):
            problems.append(
                f"registry.{key} must name an environment variable (e.g. REG_PASS), not"
                " hold a value; write the name without ${...}"
            )
        elif not env.get(name):
            problems.append(f"{_named(key, name, env)} is not set")
    if problems:  # like an unset ${VAR}: the configuration cannot be honoured (exit 2)
        raise UsageError("registry credentials: " + "; ".join(problems))
    user, password = env[user_var], env[password_var]
    log.mask_credentials(user, password, host)
    return Credentials(user, password, host)


def docker_config_file(env: Mapping[str, str]) -> Path:
    folder = env.get("DOCKER_CONFIG") or str(Path(env.get("HOME") or "~").expanduser() / ".docker")
    return Path(folder) / "config.json"


def _read_config(path: Path) -> dict[str, Any] | None:
    """The docker config, or None when there is none; a broken one is an error."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise UsageError(f"cannot read the docker config {path}: {err.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"the docker config {path} is not a regular file")
    if info.st_size > _MAX_CONFIG:
        raise UsageError(f"the docker config {path} is larger than 1 MiB")
    try:
        with path.open("rb") as handle:
            data = json.loads(handle.read(_MAX_CONFIG + 1).decode("utf-8"))
    except OSError as err:
        raise UsageError(f"cannot read the docker config {path}: {err.strerror}") from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        # Never the parser's message: it quotes the text around the error.
        raise UsageError(f"the docker config {path} is not valid JSON") from None
    if not isinstance(data, dict):
        raise UsageError(f"the docker config {path} is not a JSON object")
    return data


def _host_of(key: str) -> str:
    """`https://index.docker.io/v1/` -> `index.docker.io` (docker accepts both forms)."""
    if "://" in key:
        return urllib.parse.urlsplit(key).netloc
    return key.split("/", 1)[0]


def _entry(auths: object, host: str) -> dict[str, Any] | None:
    if not isinstance(auths, dict):
        return None
    exact = auths.get(host)
    if isinstance(exact, dict):
        return exact
    for key, value in auths.items():
        if isinstance(key, str) and isinstance(value, dict) and _host_of(key) == host:
            return value
    return None


def _decode_auth(path: Path, host: str, auth: object) -> tuple[str, str]:
    """`auth` is base64 of `user:password`; a broken one is named, never shown."""
    where = f"the docker config {path}: auths.{host}.auth"
    if not isinstance(auth, str):
        raise UsageError(f"{where} must be a string (base64 of user:password)")
    log.mask(auth)  # whatever it holds, it is a credential
    try:
        text = base64.b64decode(auth.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise UsageError(f"{where} is not base64 of user:password") from None
    user, sep, password = text.partition(":")
    if not sep or not password:
        log.mask(text)
        raise UsageError(f"{where} is not base64 of user:password (no ':' or no password)")
    log.mask_credentials(user, password, host)
    return user, password


def from_docker_config(host: str, env: Mapping[str, str]) -> Credentials | None:
    """What `docker login` stored for `host`, if anything."""
    path = docker_config_file(env)
    config = _read_config(path)
    if config is None:
        return None
    entry = _entry(config.get("auths"), host) or {}
    for key in ("identitytoken", "registrytoken", "password"):
        if isinstance(entry.get(key), str):
            log.mask(entry[key])
    if entry.get("auth"):
        user, password = _decode_auth(path, host, entry["auth"])
        return Credentials(user, password, host)
    helpers = config.get("credHelpers")
    helper = (helpers.get(host) if isinstance(helpers, dict) else None) or config.get("credsStore")
    if helper:
        if not isinstance(helper, str) or not _HELPER.match(helper):
            raise UsageError(
                f"the docker config {path}: the credential helper for {host} is not a name"
            )
        return _helper(helper, host, env)
    return None


def _helper(name: str, host: str, env: Mapping[str, str]) -> Credentials | None:
    program = f"docker-credential-{name}"
    try:
        out = subprocess.run(
            [program, "get"],
            input=host,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=30,
            env=dict(env) or dict(os.environ),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        log.LOG.debug("%s for %s: %s; pushing without credentials", program, host, type(err))
        return None
    if out.returncode != 0:  # "credentials not found": anonymous, as docker does
        log.LOG.debug("%s has no credentials for %s", program, host)
        return None
    try:
        data = json.loads(out.stdout[:_MAX_HELPER_OUTPUT])
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise UsageError(f"{program} answered something other than its JSON for {host}")
    secret, user = data.get("Secret"), data.get("Username")
    if not isinstance(secret, str) or not secret:
        return None
    username = user if isinstance(user, str) else ""
    log.mask_credentials(username, secret, host)
    return Credentials(username, secret, host)
