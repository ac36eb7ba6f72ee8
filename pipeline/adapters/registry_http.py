"""The OCI distribution API, spoken directly: manifests, configs, tags by manifest.

Used to read what a registry already holds (to skip rebuilding it), to check
a pushed digest, and to add tags without moving any layer. ECR, the sandbox's
registry and any generic registry speak it; authentication follows the
registry's `WWW-Authenticate` challenge (Basic, or a Bearer token service).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import urllib.parse
from typing import Any

from pipeline.adapters.ports import CredentialSource, Manifest
from pipeline.retry import Kind, RegistryFailure

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)
INDEX_TYPES = MANIFEST_TYPES[:2]
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


def scheme_for(host: str) -> str:
    """Plain HTTP for loopback registries (as dockerd does), else HTTPS."""
    forced = os.environ.get("PIPELINE_REGISTRY_SCHEME")
    if forced in ("http", "https"):
        return forced
    name = urllib.parse.urlsplit(f"//{host}").hostname or ""  # no port, no [ ]
    if name == "localhost":
        return "http"
    try:
        return "http" if ipaddress.ip_address(name).is_loopback else "https"
    except ValueError:
        return "https"


def _error_text(resp: Any) -> str:
    try:
        errors = resp.json().get("errors") or []
        text = "; ".join(f"{e.get('code', '')}: {e.get('message', '')}".strip(": ") for e in errors)
    except ValueError:
        text = ""
    return text or f"HTTP {resp.status_code} {resp.reason}"


def _kind(status: int, text: str) -> Kind:
    if "TAG_INVALID" in text or "immutable" in text:
        return Kind.IMMUTABLE
    if status == 401:
        return Kind.REAUTH
    if status == 429 or status >= 500:
        return Kind.TRANSIENT
    return Kind.FATAL


class RegistryClient:
    def __init__(
        self, host: str, credentials: CredentialSource | None = None, *, timeout: float = 60.0
    ) -> None:
        self.host = host
        self.base = f"{scheme_for(host)}://{host}/v2"
        self.credentials = credentials
        self.timeout = timeout
        self._session: Any = None
        self._bearer: dict[str, str] = {}  # scope -> token

    @property
    def session(self) -> Any:
        """Made on first use: importing requests is a noticeable part of a run's start."""
        if self._session is None:
            import requests

            self._session = requests.Session()
        return self._session

    # ------------------------------------------------------------------ transport

    def _request(
        self, method: str, repository: str, path: str, *, push: bool = False, **kwargs: Any
    ) -> Any:
        scope = f"repository:{repository}:{'pull,push' if push else 'pull'}"
        return self._call(method, f"{self.base}/{repository}/{path}", scope, repository, **kwargs)

    def _call(self, method: str, url: str, scope: str, repository: str, **kwargs: Any) -> Any:
        import requests

        headers = dict(kwargs.pop("headers", {}))
        for attempt in range(2):
            auth = self._auth_header(scope)
            if auth:
                headers["Authorization"] = auth
            try:
                resp = self.session.request(
                    method, url, headers=headers, timeout=self.timeout, **kwargs
                )
            except requests.RequestException as err:
                raise RegistryFailure(
                    f"{method} {self.host}/{repository}: {type(err).__name__}", Kind.TRANSIENT
                ) from None
            if resp.status_code == 401 and attempt == 0 and self._answer(resp, scope):
                continue
            return resp
        return resp

    def _auth_header(self, scope: str) -> str | None:
        if scope in self._bearer:
            return f"Bearer {self._bearer[scope]}"
        creds = self.credentials.get() if self.credentials else None
        if creds is None:
            return None
        import base64

        pair = f"{creds.username}:{creds.password}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def _answer(self, resp: Any, scope: str) -> bool:
        """Follow a Bearer challenge to the token service; True when a retry may pass."""
        challenge = resp.headers.get("WWW-Authenticate", "")
        if not challenge.lower().startswith("bearer"):
            return False
        params = dict(_CHALLENGE.findall(challenge))
        realm = params.get("realm")
        if not realm:
            return False
        creds = self.credentials.get() if self.credentials else None
        query = {"service": params.get("service", ""), "scope": params.get("scope", scope)}
        auth = (creds.username, creds.password) if creds else None
        token_resp = self.session.get(realm, params=query, auth=auth, timeout=self.timeout)
        if token_resp.status_code != 200:
            return False
        body = token_resp.json()
        token = body.get("token") or body.get("access_token")
        if not token:
            return False
        from pipeline import log

        log.mask(token)
        self._bearer[scope] = token
        return True

    def _fail(self, what: str, resp: Any) -> RegistryFailure:
        text = _error_text(resp)
        return RegistryFailure(f"{what}: {text}", _kind(resp.status_code, text))

    # ------------------------------------------------------------------ API

    def accepts_credentials(self) -> bool:
        resp = self._call("GET", f"{self.base}/", "", "")
        if resp.status_code in (200, 401):
            return bool(resp.status_code == 200)
        raise self._fail("checking the credentials", resp)

    def manifest(self, repository: str, reference: str) -> Manifest | None:
        resp = self._request(
            "GET",
            repository,
            f"manifests/{reference}",
            headers={"Accept": ",".join(MANIFEST_TYPES)},
        )
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise self._fail(f"reading {repository}:{reference}", resp)
        body = resp.content
        digest = (
            resp.headers.get("Docker-Content-Digest")
            or "sha256:" + hashlib.sha256(body).hexdigest()
        )
        media_type = resp.headers.get("Content-Type", "").split(";")[0].strip()
        if not media_type:
            media_type = json.loads(body).get("mediaType", MANIFEST_TYPES[2])
        return Manifest(digest, media_type, body)

    def config(self, repository: str, manifest: Manifest) -> dict[str, Any]:
        doc = json.loads(manifest.body)
        if manifest.media_type in INDEX_TYPES or "manifests" in doc:
            child = next(
                (
                    m
                    for m in doc.get("manifests", [])
                    if (m.get("platform") or {}).get("os") not in (None, "unknown")
                ),
                None,
            )
            if child is None:
                return {}
            inner = self.manifest(repository, child["digest"])
            if inner is None:
                return {}
            doc = json.loads(inner.body)
        digest = (doc.get("config") or {}).get("digest")
        if not digest:
            return {}
        resp = self._request("GET", repository, f"blobs/{digest}")
        if resp.status_code != 200:
            raise self._fail(f"reading the config of {repository}@{manifest.digest}", resp)
        config: dict[str, Any] = json.loads(resp.content)
        return config

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        resp = self._request(
            "PUT",
            repository,
            f"manifests/{tag}",
            push=True,
            data=manifest.body,
            headers={"Content-Type": manifest.media_type},
        )
        if resp.status_code not in (200, 201):
            raise self._fail(f"tagging {repository}:{tag}", resp)
        digest: str = resp.headers.get("Docker-Content-Digest") or manifest.digest
        return digest

    def tag(self, repository: str, tag: str, manifest: Manifest) -> None:
        digest = self.put_manifest(repository, tag, manifest)
        if digest != manifest.digest:
            raise RegistryFailure(
                f"tagging {repository}:{tag}: the registry stored {digest}, not {manifest.digest}",
                Kind.FATAL,
            )

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


def labels_of(config: dict[str, Any]) -> dict[str, str]:
    labels = (config.get("config") or {}).get("Labels") or {}
    return {str(k): str(v) for k, v in labels.items()}
