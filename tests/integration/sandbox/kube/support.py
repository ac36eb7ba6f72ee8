"""kubectl with a private cache, and a Deployment manifest with a sidecar and an init container."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


class Kubectl:
    """Runs kubectl with one kubeconfig and a private discovery cache."""

    def __init__(self, binary: str, kubeconfig: Path | str, cache: Path) -> None:
        self.binary = binary
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(cache),
            "KUBECONFIG": str(kubeconfig),
            # A cache per test: ports are reused between sandboxes, and a stale
            # discovery cache would hide what the server answers.
            "KUBECACHEDIR": str(cache / "kube-cache"),
        }

    def run(
        self, *args: str, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            check=False,
        )

    def __call__(self, *args: str, stdin: str | None = None, timeout: float = 60) -> str:
        done = self.run(*args, stdin=stdin, timeout=timeout)
        assert done.returncode == 0, (
            f"kubectl {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        )
        return done.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-o", "json"))

    def apply(self, manifest: dict[str, Any]) -> str:
        return self("apply", "-f", "-", stdin=json.dumps(manifest))


def deployment(
    name: str = "web",
    image: str = "registry.example/app:1",
    replicas: int = 3,
    namespace: str | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A Deployment with the app, a sidecar and an init container."""
    metadata: dict[str, Any] = {"name": name, "labels": {"app": name}}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "initContainers": [
                        {"name": "migrate", "image": "registry.example/migrate:7", "args": ["up"]}
                    ],
                    "containers": [
                        {
                            "name": "app",
                            "image": image,
                            "env": [{"name": "MODE", "value": "prod"}],
                            "ports": [{"containerPort": 8080, "name": "http"}],
                        },
                        {
                            "name": "envoy",
                            "image": "registry.example/envoy:1.30",
                            "args": ["--config", "/etc/envoy.yaml"],
                        },
                    ],
                },
            },
            **spec,
        },
    }


def eks_token(sandbox: dict[str, str], cluster: str) -> str:
    """A bearer token as `aws eks get-token` makes it, presigned by the sandbox's STS."""
    import base64

    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=sandbox["AWS_ENDPOINT_URL"],
        region_name=sandbox["AWS_REGION"],
        aws_access_key_id=sandbox["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=sandbox["AWS_SECRET_ACCESS_KEY"],
    )

    def move_cluster(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["eks_cluster"] = params.pop("ClusterName")

    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-k8s-aws-id"] = request.context["eks_cluster"]

    sts.meta.events.register("provide-client-params.sts.GetCallerIdentity", move_cluster)
    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_header)
    url = sts.generate_presigned_url(
        "get_caller_identity", Params={"ClusterName": cluster}, ExpiresIn=60, HttpMethod="GET"
    )
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
