"""Kubernetes Deployments through the official `kubernetes` client.

The client is an optional extra (`pip install 'pipeline-release[eks]'`), imported
here only, and only when a Kubernetes target is deployed. Objects are read
and written as the API's own JSON (`_preload_content=False`), so nothing
depends on the client's generated model classes, which changed shape between
client generations. Every vendor error becomes a DeployError naming the
operation and the Deployment; the bearer token is never part of one (it
travels in a header the client builds per request, and is masked in the log).
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
import os
import tempfile
from collections.abc import Callable
from typing import Any, NoReturn

from pipeline import log
from pipeline.deployment import DeployError
from pipeline.kube.ports import KubeObject, KubeUnavailable

INSTALL_HINT = "pip install 'pipeline-release[eks]'"
SMP = "application/strategic-merge-patch+json"
#: (connect, read) seconds per request: a silent API server must not hang a deploy.
TIMEOUT = (10.0, 30.0)


def kubernetes() -> Any:
    try:
        import kubernetes as module
    except ImportError as err:
        raise DeployError(
            f"Kubernetes deploys need the official kubernetes client: {INSTALL_HINT}"
        ) from err
    return module


class KubeClient:
    """One cluster's Deployments (the KubeApi port)."""

    def __init__(self, api_client: Any, label: str, ca_file: str | None = None) -> None:
        self._api_client = api_client
        k8s = kubernetes()
        import urllib3

        self._apps = k8s.client.AppsV1Api(api_client)
        self._errors = (k8s.client.exceptions.ApiException, urllib3.exceptions.HTTPError, OSError)
        # Older clients (the python-legacy generator, v29 for one) pick the patch type from
        # the body (a dict is a strategic-merge patch) and refuse `_content_type`; newer ones
        # send a JSON patch unless told otherwise.
        patch = self._apps.patch_namespaced_deployment
        self._patch_options = (
            {"_content_type": SMP} if "_content_type" in inspect.signature(patch).parameters else {}
        )
        self._label = label
        self._ca_file = ca_file

    def get_deployment(self, namespace: str, name: str) -> KubeObject:
        where = f"deployment {namespace}/{name} in {self._label}"
        try:
            response = self._apps.read_namespaced_deployment(
                name, namespace, _preload_content=False, _request_timeout=TIMEOUT
            )
        except self._errors as err:
            _translate(err, f"reading {where}")
        return _json(response, where)

    def patch_deployment(self, namespace: str, name: str, patch: KubeObject) -> KubeObject:
        where = f"deployment {namespace}/{name} in {self._label}"
        try:
            response = self._apps.patch_namespaced_deployment(
                name,
                namespace,
                dict(patch),
                field_manager="pipeline",
                _preload_content=False,
                _request_timeout=TIMEOUT,
                **self._patch_options,
            )
        except self._errors as err:
            _translate(err, f"patching {where}")
        return _json(response, where)

    def close(self) -> None:
        try:
            self._api_client.close()
        finally:
            if self._ca_file:
                os.unlink(self._ca_file)
                self._ca_file = None


def _json(response: Any, where: str) -> KubeObject:
    try:
        obj = json.loads(response.data)
    except (ValueError, TypeError) as err:
        raise DeployError(f"{where}: the API server's answer is not JSON") from err
    if not isinstance(obj, dict):
        raise DeployError(f"{where}: the API server's answer is not an object")
    return obj


def _status_message(body: Any) -> str:
    try:
        message = json.loads(body).get("message")
    except (ValueError, TypeError, AttributeError):
        return ""
    return str(message) if message else ""


def _translate(err: Exception, doing: str) -> NoReturn:
    status = getattr(err, "status", None)
    if isinstance(status, int) and hasattr(err, "body"):
        detail = _status_message(getattr(err, "body", None)) or str(getattr(err, "reason", ""))
        text = log.redact(f"{doing}: {status} {detail}".rstrip())
        if status == 401:
            text += " (the cluster did not accept the credentials: for EKS, grant the IAM"
            text += " principal an access entry or an aws-auth mapping)"
        if status == 429 or status >= 500:
            raise KubeUnavailable(text) from err
        raise DeployError(text) from err
    reason = getattr(err, "reason", None) or err
    raise KubeUnavailable(log.redact(f"{doing}: the API server did not answer: {reason}")) from err


def from_endpoint(
    endpoint: str, ca_data: str | None, token: Callable[[], str], label: str
) -> KubeClient:
    """A client for an API server known by URL and CA (EKS), authenticated with a bearer token
    that `token` hands out; the client asks for it again before every request, so a token that
    is about to expire is replaced without the client noticing."""
    k8s = kubernetes()
    first = token()  # before any file exists: a signing failure leaves nothing behind
    config = k8s.client.Configuration()
    config.host = endpoint
    ca_file = None
    if ca_data:
        try:
            pem = base64.b64decode(ca_data, validate=True)
        except (binascii.Error, ValueError) as err:
            raise DeployError(f"{label}: the certificate authority is not base64 PEM") from err
        fd, ca_file = tempfile.mkstemp(prefix="pipeline-ca-", suffix=".crt")
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        config.ssl_ca_cert = ca_file
    config.api_key_prefix = {"authorization": "Bearer"}

    def refresh(cfg: Any) -> None:
        cfg.api_key["authorization"] = token()

    config.refresh_api_key_hook = refresh
    config.api_key = {"authorization": first}
    return KubeClient(k8s.client.ApiClient(configuration=config), label, ca_file)


def from_kubeconfig(context: str, kubeconfig: str | None) -> KubeClient:
    """A client for a kubeconfig context (KUBECONFIG may list several files)."""
    k8s = kubernetes()
    label = f"context {context}"
    try:
        api_client = k8s.config.new_client_from_config(
            config_file=kubeconfig, context=context, persist_config=False
        )
    except (k8s.config.ConfigException, OSError, ValueError) as err:
        where = kubeconfig or "~/.kube/config"
        raise DeployError(log.redact(f"kubeconfig {where}, {label}: {err}")) from err
    return KubeClient(api_client, label)
