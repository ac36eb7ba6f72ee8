"""Small clients for the sandbox tests: plain HTTP to the registry, docker pushes."""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import json
import tarfile
import uuid
from typing import Any

from pipeline.sandbox.distribution import MANIFEST_TYPES


class RegistryHttp:
    """The registry as any HTTP client sees it, through PIPELINE_REGISTRY_HOST."""

    def __init__(self, host: str, username: str, password: str) -> None:
        self.host = host
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.auth = f"Basic {token}"

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        name, _, port = self.host.rpartition(":")
        conn = http.client.HTTPConnection(name, int(port), timeout=30)
        try:
            conn.request(method, path, body, {"Authorization": self.auth, **(headers or {})})
            response = conn.getresponse()
            return response.status, response.msg, response.read()
        finally:
            conn.close()

    def tags(self, repository: str) -> list[str]:
        status, _, body = self.call("GET", f"/v2/{repository}/tags/list")
        assert status == 200, body
        return sorted(json.loads(body)["tags"] or [])

    def manifest(self, repository: str, reference: str) -> tuple[int, str | None, bytes]:
        """(status, Docker-Content-Digest, body) of a manifest GET."""
        status, headers, body = self.call(
            "GET",
            f"/v2/{repository}/manifests/{reference}",
            headers={"Accept": ", ".join(MANIFEST_TYPES)},
        )
        return status, headers.get("Docker-Content-Digest"), body


def error_codes(body: bytes) -> list[str]:
    return [e["code"] for e in json.loads(body)["errors"]]


class Images:
    """Builds throw-away images from the base image and removes them afterwards."""

    def __init__(self, client: Any, host: str, auth: dict[str, str]) -> None:
        self.client = client
        self.host = host
        self.auth = auth
        self.ids: list[str] = []

    def build(self) -> Any:
        """A new image (a unique label on the base image): its own config, so its own digest."""
        return self.build_dockerfile(f"FROM local/busybox:1\nLABEL sandbox.test={uuid.uuid4()}\n")

    def build_dockerfile(self, text: str) -> Any:
        """An image built from this Dockerfile alone (removed by `remove_all`)."""
        dockerfile = text.encode()
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(dockerfile)
            tar.addfile(info, io.BytesIO(dockerfile))
        context.seek(0)
        image, _ = self.client.images.build(fileobj=context, custom_context=True, rm=True)
        self.ids.append(image.id)
        return image

    def push(
        self, image: Any, repository: str, tag: str, password: str | None = None
    ) -> tuple[list[str], str | None]:
        """(errors, digest) from `docker push`, which reports failures in its stream."""
        name = f"{self.host}/{repository}"
        image.tag(name, tag)
        auth = dict(self.auth) if password is None else {**self.auth, "password": password}
        errors: list[str] = []
        digest = None
        for line in self.client.images.push(name, tag, stream=True, decode=True, auth_config=auth):
            if "error" in line:
                errors.append(str(line["error"]))
            if "aux" in line and "Digest" in line["aux"]:
                digest = str(line["aux"]["Digest"])
        return errors, digest

    def pull(self, repository: str, tag: str) -> Any:
        image = self.client.images.pull(f"{self.host}/{repository}", tag, auth_config=self.auth)
        self.ids.append(image.id)
        return image

    def remove_all(self) -> None:
        import docker

        for image_id in reversed(self.ids):
            with contextlib.suppress(docker.errors.ImageNotFound):
                self.client.images.remove(image_id, force=True)
