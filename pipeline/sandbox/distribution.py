"""The distribution registry (docker-registry 2.8) behind the front proxy.

Its password is the one the emulated GetAuthorizationToken hands out; only a
bcrypt hash of it reaches the disk. The sandbox owns the filesystem storage,
which is how a single tag is removed: distribution 2.8 has no API for that.
"""

from __future__ import annotations

import base64
import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Mapping
from pathlib import Path

USER = "AWS"
SYNC_AGENT = "pipeline-sandbox-sync/1"  # the webhook skips events caused by this agent
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)
# Names as distribution and ECR accept them; checked before they become paths.
NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*")
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_PR_SET_PDEATHSIG = 1
# All that docker-registry gets of our environment. Everything else stays out:
# distribution reads REGISTRY_* (and REGISTRY_<SECTION>_<KEY>) as overrides of
# its configuration file, so a user's REGISTRY_HTTP_ADDR or REGISTRY_AUTH
# would move or open the sandbox's registry.
CHILD_ENVIRONMENT = ("PATH", "TZ", "TMPDIR")


class RegistryRefused(Exception):
    """The registry answered a write with an error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def write_config(
    state_dir: Path, port: int, webhook_url: str, webhook_token: str, password_hash: str
) -> Path:
    """registry.yml (JSON is YAML) and the htpasswd file, both readable by us only."""
    htpasswd = state_dir / "htpasswd"
    _write_private(htpasswd, f"{USER}:{password_hash}\n")
    config = {
        "version": 0.1,
        "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": True}},
        # No blob-descriptor cache: it would keep answering for links the
        # sandbox removes on disk when ECR deletes a tag or a repository.
        "storage": {
            "filesystem": {"rootdirectory": str(storage_root(state_dir))},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": os.urandom(16).hex()},
        "auth": {"htpasswd": {"realm": "pipeline-sandbox", "path": str(htpasswd)}},
        "notifications": {
            "events": {"includereferences": True},
            "endpoints": [
                {
                    "name": "sandbox-ecr",
                    "url": webhook_url,
                    "headers": {"X-Sandbox-Token": [webhook_token]},
                    "timeout": "5s",
                    "threshold": 3,
                    "backoff": "250ms",
                    "ignoredmediatypes": ["application/octet-stream"],
                    "ignore": {"actions": ["pull", "mount"]},
                }
            ],
        },
    }
    path = state_dir / "registry.yml"
    _write_private(path, json.dumps(config, indent=2))
    return path


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def storage_root(state_dir: Path) -> Path:
    return state_dir / "registry-data"


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The scrubbed environment docker-registry runs with (CHILD_ENVIRONMENT only)."""
    return {name: environ[name] for name in CHILD_ENVIRONMENT if name in environ}


def spawn(binary: str, config: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start docker-registry; on Linux it dies with the sandbox server, even on SIGKILL."""
    prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)  # Linux only

    def die_with_parent() -> None:  # runs in the child, before exec
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    with log.open("ab") as out:
        return subprocess.Popen(
            [binary, "serve", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=child_environment(os.environ),
            preexec_fn=die_with_parent,  # noqa: PLW1509 - called before any thread starts
        )


class DistributionClient:
    """Direct calls to the registry (not through the proxy), as the sandbox itself."""

    def __init__(self, address: str, password: str, storage: Path, timeout: float = 30.0):
        self.address = address
        self.storage = storage
        self.timeout = timeout
        token = base64.b64encode(f"{USER}:{password}".encode()).decode()
        self._auth = f"Basic {token}"

    def _call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        host, _, port = self.address.rpartition(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=self.timeout)
        try:
            all_headers = {"Authorization": self._auth, "User-Agent": SYNC_AGENT, **(headers or {})}
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            return response.status, response.msg, response.read()
        finally:
            conn.close()

    def ping(self) -> int:
        return self._call("GET", "/v2/")[0]

    def get_manifest(self, name: str, reference: str) -> tuple[bytes, str]:
        status, headers, data = self._call(
            "GET",
            f"/v2/{name}/manifests/{reference}",
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        if status != 200:
            raise _refused(status, data)
        return data, headers.get_content_type()

    def put_manifest(self, name: str, reference: str, data: bytes, media_type: str) -> str:
        status, headers, body = self._call(
            "PUT", f"/v2/{name}/manifests/{reference}", data, {"Content-Type": media_type}
        )
        if status != 201:
            raise _refused(status, body)
        return headers.get("Docker-Content-Digest", "")

    def delete_manifest(self, name: str, digest: str) -> None:
        """Deletes the manifest and every tag on it; gone already is fine."""
        status, _, body = self._call("DELETE", f"/v2/{name}/manifests/{digest}")
        if status not in (202, 404):
            raise _refused(status, body)

    def remove_tag(self, name: str, tag: str) -> None:
        if NAME.fullmatch(name) and TAG.fullmatch(tag):
            shutil.rmtree(self._repository_dir(name) / "_manifests" / "tags" / tag, True)

    def remove_repository(self, name: str) -> None:
        if NAME.fullmatch(name):
            shutil.rmtree(self._repository_dir(name), True)

    def _repository_dir(self, name: str) -> Path:
        return self.storage / "docker" / "registry" / "v2" / "repositories" / name


def _refused(status: int, body: bytes) -> RegistryRefused:
    try:
        error = json.loads(body)["errors"][0]
        return RegistryRefused(status, str(error["code"]), str(error["message"]))
    except (ValueError, LookupError, TypeError):
        return RegistryRefused(status, "UNKNOWN", body[:200].decode(errors="replace"))
