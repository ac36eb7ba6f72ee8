"""The OCI distribution API, spoken directly: manifests, configs, tags by manifest.

Used to read what a registry already holds (to skip rebuilding it), to check
a pushed digest, and to add tags without moving any layer. ECR, the sandbox's
registry and any generic registry speak it; authentication follows the
registry's `WWW-Authenticate` challenge (Basic, or a Bearer token service).

Credentials go only to the registry itself and to a token service on https
or on the registry's own host: a registry cannot send them to any realm it
names. Every wait is bounded by the current try's deadline (retry.py).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import urllib.parse
from typing import Any

from pipeline import log, retry
from pipeline.adapters.ports import Credentials, CredentialSource, Manifest
from pipeline.retry import Kind, RegistryFailure

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)
INDEX_TYPES = MANIFEST_TYPES[:2]
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
MAX_MANIFEST = 4 << 20  # the distribution spec's limit for manifests
MAX_CONFIG = 16 << 20  # image configs are KiB; history-heavy ones a few MiB
MAX_TOKEN_ANSWER = 1 << 20
_CHUNK = 64 << 10


def _hostname(host: str) -> str:
    return (urllib.parse.urlsplit(f"//{host}").hostname or "").lower()  # no port, no [ ]


def is_loopback(host: str) -> bool:
    name = _hostname(host)
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def scheme_for(host: str, forced: str | None = None) -> str:
    """Plain HTTP for loopback registries (as dockerd does), else HTTPS; `forced` wins
    (PIPELINE_REGISTRY_SCHEME, handed in by the caller)."""
    if forced in ("http", "https"):
        return forced
    return "http" if is_loopback(host) else "https"


def realm_may_see_credentials(realm: str, registry_host: str) -> bool:
    """A token service gets our credentials on https, or on the registry's own host."""
    parts = urllib.parse.urlsplit(realm)
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and (parts.hostname or "").lower() == _hostname(registry_host)


def _error_text(status: int, reason: str, body: bytes) -> str:
    try:
        doc = json.loads(body)
        errors = doc.get("errors") if isinstance(doc, dict) else None
        text = "; ".join(
            f"{e.get('code', '')}: {e.get('message', '')}".strip(": ")
            for e in (errors if isinstance(errors, list) else [])
            if isinstance(e, dict)
        )
    except (ValueError, RecursionError):
        text = ""
    status_line = f"HTTP {status} {reason}".strip()
    return f"{text[:500]} ({status_line})" if text else status_line


def _kind(status: int, text: str) -> Kind:
    if "TAG_INVALID" in text or "immutable" in text:
        return Kind.IMMUTABLE
    if status == 403 and "expired" in text:
        return Kind.EXPIRED
    return retry.status_kind(status)


def _json(body: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        raise RegistryFailure(f"{what}: the registry answered something other than JSON") from None
    if not isinstance(doc, dict):
        raise RegistryFailure(f"{what}: the registry answered JSON that is not an object")
    return doc


class Answer:
    """A response whose body was read within its size limit and the try's deadline."""

    def __init__(self, status: int, reason: str, headers: Any, body: bytes) -> None:
        self.status_code = status
        self.reason = reason
        self.headers = headers
        self.content = body


class RegistryClient:
    def __init__(
        self,
        host: str,
        credentials: CredentialSource | None = None,
        *,
        scheme: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.host = host
        self.base = f"{scheme_for(host, scheme)}://{host}/v2"
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

    def _send(self, method: str, url: str, what: str, limit: int, **kwargs: Any) -> Answer:
        """One HTTP exchange; a broken connection or a timeout is a RegistryFailure."""
        import requests

        try:
            resp = self.session.request(
                method, url, timeout=retry.clip(self.timeout), stream=True, **kwargs
            )
            try:
                body = _read(resp, limit, what)
            finally:
                resp.close()
        except requests.RequestException as err:
            raise RegistryFailure(f"{what}: {request_error(err)}") from None
        return Answer(resp.status_code, resp.reason or "", resp.headers, body)

    def _request(
        self,
        method: str,
        repository: str,
        path: str,
        *,
        push: bool = False,
        limit: int = MAX_MANIFEST,
        **kwargs: Any,
    ) -> Answer:
        scope = f"repository:{repository}:{'pull,push' if push else 'pull'}"
        return self._call(method, f"{self.base}/{repository}/{path}", scope, limit, **kwargs)

    def _call(self, method: str, url: str, scope: str, limit: int, **kwargs: Any) -> Answer:
        headers = dict(kwargs.pop("headers", {}))
        what = f"{method} {url.split('://', 1)[-1]}"
        for attempt in range(2):
            auth = self._auth_header(scope)
            if auth:
                headers["Authorization"] = auth
            resp = self._send(method, url, what, limit, headers=headers, **kwargs)
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
        pair = f"{creds.username}:{creds.password}".encode()
        log.mask_credentials(creds.username, creds.password, creds.host)  # Basic's value too
        return "Basic " + base64.b64encode(pair).decode()

    def _answer(self, resp: Answer, scope: str) -> bool:
        """Follow a Bearer challenge to the token service; True when a retry may pass."""
        challenge = str(resp.headers.get("WWW-Authenticate", ""))
        if not challenge.lower().startswith("bearer"):
            return False
        params = dict(_CHALLENGE.findall(challenge))
        realm = params.get("realm", "")
        if urllib.parse.urlsplit(realm).scheme not in ("http", "https"):
            return False
        creds: Credentials | None = self.credentials.get() if self.credentials else None
        if creds is not None and not realm_may_see_credentials(realm, self.host):
            log.LOG.warning(
                "registry %s names the token service %s, on plain http and another host:"
                " asking it without our credentials",
                self.host,
                urllib.parse.urlsplit(realm).netloc,
            )
            creds = None
        query = {"service": params.get("service", ""), "scope": params.get("scope", scope)}
        auth = (creds.username, creds.password) if creds else None
        what = f"token service {urllib.parse.urlsplit(realm).netloc}"
        token_resp = self._send(
            "GET", realm, what, MAX_TOKEN_ANSWER, params=query, auth=auth, allow_redirects=False
        )
        if token_resp.status_code in (401, 403):
            return False  # our credentials were refused: the registry's 401 says so
        if token_resp.status_code != 200:
            text = _error_text(token_resp.status_code, token_resp.reason, token_resp.content)
            raise RegistryFailure(f"{what}: {text}", retry.status_kind(token_resp.status_code))
        try:
            body = json.loads(token_resp.content)
        except (ValueError, RecursionError):
            body = None
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryFailure(f"{what}: the answer holds no token (not JSON, or no token)")
        log.mask(token)
        self._bearer[scope] = token
        return True

    def _fail(self, what: str, resp: Answer) -> RegistryFailure:
        text = _error_text(resp.status_code, resp.reason, resp.content)
        return RegistryFailure(f"{what}: {text}", _kind(resp.status_code, text))

    # ------------------------------------------------------------------ API

    def accepts_credentials(self) -> bool:
        resp = self._call("GET", f"{self.base}/", "", MAX_TOKEN_ANSWER)
        if resp.status_code in (200, 401):
            return bool(resp.status_code == 200)
        raise self._fail("checking the credentials", resp)

    def manifest(self, repository: str, reference: str) -> Manifest | None:
        what = f"reading {repository}:{reference}"
        resp = self._request(
            "GET",
            repository,
            f"manifests/{reference}",
            headers={"Accept": ",".join(MANIFEST_TYPES)},
        )
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise self._fail(what, resp)
        body = resp.content
        digest = str(
            resp.headers.get("Docker-Content-Digest")
            or "sha256:" + hashlib.sha256(body).hexdigest()
        )
        media_type = str(resp.headers.get("Content-Type", "")).split(";")[0].strip()
        if not media_type:
            media_type = str(_json(body, what).get("mediaType") or MANIFEST_TYPES[2])
        return Manifest(digest, media_type, body)

    def config(self, repository: str, manifest: Manifest) -> dict[str, Any]:
        what = f"reading {repository}@{manifest.digest}"
        doc = _json(manifest.body, what)
        if manifest.media_type in INDEX_TYPES or "manifests" in doc:
            children = doc.get("manifests")
            child = next(
                (
                    m
                    for m in (children if isinstance(children, list) else [])
                    if isinstance(m, dict)
                    and isinstance(m.get("digest"), str)
                    and ((m.get("platform") or {}).get("os") not in (None, "unknown"))
                ),
                None,
            )
            if child is None:
                return {}
            inner = self.manifest(repository, child["digest"])
            if inner is None:
                return {}
            doc = _json(inner.body, what)
        config = doc.get("config")
        digest = config.get("digest") if isinstance(config, dict) else None
        if not isinstance(digest, str) or not digest:
            return {}
        resp = self._request("GET", repository, f"blobs/{digest}", limit=MAX_CONFIG)
        if resp.status_code != 200:
            raise self._fail(f"reading the config of {repository}@{manifest.digest}", resp)
        return _json(resp.content, f"reading the config of {repository}@{manifest.digest}")

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
        digest = str(resp.headers.get("Docker-Content-Digest") or manifest.digest)
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


_POOL_PREFIX = re.compile(r"^\S*Connection(?:Pool)?\([^)]*\):\s*")


def request_error(err: BaseException) -> str:
    """requests' error, short: its cause without urllib3's wrapping (`Max retries
    exceeded with url ... Caused by ...`). It names the cause, never a header."""
    cause = err.args[0] if err.args and isinstance(err.args[0], BaseException) else err
    reason = getattr(cause, "reason", None)
    text = str(reason if isinstance(reason, BaseException) else cause)
    return f"{type(err).__name__}: {_POOL_PREFIX.sub('', text)}"


def _read(resp: Any, limit: int, what: str) -> bytes:
    """The body, at most `limit` bytes, read before the try's deadline."""
    limit_at = retry.current_deadline()
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_content(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise RegistryFailure(
                f"{what}: the answer is larger than {limit >> 10} KiB", Kind.FATAL
            )
        chunks.append(chunk)
        if limit_at is not None and limit_at.left() <= 0:
            raise RegistryFailure(f"{what}: the answer did not arrive in time (timeout)")
    return b"".join(chunks)
