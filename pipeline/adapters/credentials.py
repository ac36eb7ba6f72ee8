"""Credentials for generic registries: named env vars, else the user's docker config.

Values are masked the moment they are read. Credential helpers are asked
over stdin, so nothing lands on a command line.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from pipeline import log
from pipeline.adapters.ports import Credentials
from pipeline.errors import UsageError


class Static:
    """Credentials that do not expire (or none at all: anonymous access)."""

    def __init__(self, creds: Credentials | None) -> None:
        self._creds = creds

    def get(self) -> Credentials | None:
        return self._creds

    def refresh(self) -> Credentials | None:
        return self._creds


def from_env(host: str, user_var: str, password_var: str, env: Mapping[str, str]) -> Credentials:
    missing = [v for v in (user_var, password_var) if not env.get(v)]
    if missing:  # like an unset ${VAR}: the configuration cannot be honoured (exit 2)
        raise UsageError(
            f"registry credentials: {' and '.join(missing)} (named by registry.username_env /"
            " password_env) not set"
        )
    log.mask(env[password_var])
    return Credentials(env[user_var], env[password_var], host)


def from_docker_config(host: str, env: Mapping[str, str]) -> Credentials | None:
    """What `docker login` stored for `host`, if anything."""
    folder = Path(env.get("DOCKER_CONFIG") or Path(env.get("HOME", "~")).expanduser() / ".docker")
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    helper = (config.get("credHelpers") or {}).get(host) or config.get("credsStore")
    entry = (config.get("auths") or {}).get(host) or {}
    if entry.get("auth"):
        user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        log.mask(password)
        return Credentials(user, password, host)
    if helper:
        return _helper(helper, host, env)
    return None


def _helper(name: str, host: str, env: Mapping[str, str]) -> Credentials | None:
    try:
        out = subprocess.run(
            [f"docker-credential-{name}", "get"],
            input=host,
            capture_output=True,
            text=True,
            timeout=30,
            env=dict(env) or dict(os.environ),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    try:
        data = json.loads(out.stdout)
    except ValueError:
        return None
    secret = data.get("Secret")
    if not secret:
        return None
    log.mask(secret)
    return Credentials(data.get("Username", ""), secret, host)
