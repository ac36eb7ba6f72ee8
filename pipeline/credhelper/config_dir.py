"""A build's own DOCKER_CONFIG: the user's, plus `credHelpers` naming our helper.

The folder (mode 0700, removed after the build) keeps every other entry of
the user's `config.json` (Docker Hub logins, proxies, a credsStore) and links
its `cli-plugins/` and `buildx/` folders, so buildx and its builders stay
found. For the hosts the build needs it names `pipeline` in `credHelpers`:
docker then runs `docker-credential-pipeline get`, which fetches a token when
asked. No token of ours is ever written: stale ECR logins of the user for
those hosts are dropped rather than copied.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pipeline import log

HELPER = "pipeline"  # docker runs docker-credential-<this>
EXECUTABLE = f"docker-credential-{HELPER}"
_LINKED = ("cli-plugins", "buildx", "contexts")


def user_config_dir(env: Mapping[str, str]) -> Path:
    if env.get("DOCKER_CONFIG"):
        return Path(env["DOCKER_CONFIG"])
    return Path(env.get("HOME") or Path.home()) / ".docker"


def read_user_config(folder: Path) -> dict[str, Any]:
    """The user's config.json, or {} when there is none or it is not a JSON object."""
    try:
        data = json.loads((folder / "config.json").read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        log.LOG.warning("ignoring %s/config.json: %s", folder, err)
        return {}
    return data if isinstance(data, dict) else {}


def config_for(user: Mapping[str, Any], hosts: Iterable[str]) -> dict[str, Any]:
    """The user's entries, with `pipeline` the helper for `hosts`. Pure."""
    wanted = sorted({h.lower() for h in hosts if h})
    out = dict(user)
    helpers = dict(user.get("credHelpers") or {})
    for host in wanted:
        helpers[host] = HELPER
    if helpers:
        out["credHelpers"] = helpers
    auths = user.get("auths")
    if isinstance(auths, dict):
        # credHelpers win over auths anyway; a stale token of those hosts stays behind
        kept = {k: v for k, v in auths.items() if _host_of(k) not in wanted}
        out["auths"] = kept
    return out


def _host_of(key: str) -> str:
    from pipeline.credhelper.hosts import normalize

    return normalize(key)


def helper_dirs() -> list[str]:
    """Folders holding `docker-credential-pipeline`: the running interpreter's scripts
    (a virtualenv's bin/, even when it is not activated), then the install scheme's."""
    out: list[str] = []
    for folder in (str(Path(sys.executable).parent), sysconfig.get_path("scripts")):
        if folder and folder not in out and (Path(folder) / EXECUTABLE).exists():
            out.append(folder)
    return out


def write(folder: Path, user_dir: Path, hosts: Iterable[str]) -> None:
    """Fill `folder` (created 0700) with the build's docker config."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    config = config_for(read_user_config(user_dir), hosts)
    target = folder / "config.json"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(config, handle, indent=2)
    for name in _LINKED:
        source = user_dir / name
        if not source.is_dir():
            continue
        try:
            (folder / name).symlink_to(source.resolve(), target_is_directory=True)
        except OSError:
            shutil.copytree(source, folder / name, symlinks=True)


@contextlib.contextmanager
def build_env(env: Mapping[str, str], hosts: Iterable[str]) -> Iterator[dict[str, str]]:
    """The environment additions for one build: DOCKER_CONFIG and PATH; cleaned up after."""
    hosts = list(hosts)
    with tempfile.TemporaryDirectory(prefix="pipeline-docker-") as tmp:
        folder = Path(tmp) / "config"
        write(folder, user_config_dir(env), hosts)
        path = os.pathsep.join([*helper_dirs(), env.get("PATH", os.defpath)])
        yield {"DOCKER_CONFIG": str(folder), "PATH": path}
