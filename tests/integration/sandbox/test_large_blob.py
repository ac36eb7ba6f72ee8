"""160 MB layers through the front proxy: streamed both ways, never held in memory."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pipeline.sandbox import Sandbox
from tests.integration.sandbox.support import Images, RegistryHttp

SIZE = 160 * 1024 * 1024
BLOCK = 1024 * 1024


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(field)


def _body(block: bytes) -> Iterator[bytes]:
    for _ in range(SIZE // len(block)):
        yield block


def test_large_layer_streams_through_the_proxy(
    sandbox_handle: Sandbox, registry: RegistryHttp, repository: Callable[..., str]
) -> None:
    name = repository()
    server = int(sandbox_handle.status().components[0].pid or 0)
    rss_before = _kib(server, "VmRSS")
    block = os.urandom(BLOCK - 1)  # not a divisor of CHUNK: pieces straddle buffers
    digest = hashlib.sha256()
    for piece in _body(block):
        digest.update(piece)
    expected = f"sha256:{digest.hexdigest()}"
    size = (SIZE // len(block)) * len(block)

    status, headers, _ = registry.call("POST", f"/v2/{name}/blobs/uploads/")
    assert status == 202
    host, _, port = registry.host.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    # A chunked PATCH, as docker sends layers.
    conn.request(
        "PATCH",
        headers["Location"],
        _body(block),
        {"Authorization": registry.auth, "Content-Type": "application/octet-stream"},
        encode_chunked=True,
    )
    response = conn.getresponse()
    response.read()
    assert response.status == 202
    location = response.getheader("Location")
    conn.close()
    status, headers, _ = registry.call("PUT", f"{location}&digest={expected}")
    assert status == 201

    status, headers, _ = registry.call("HEAD", f"/v2/{name}/blobs/{expected}")
    assert (status, headers["Content-Length"]) == (200, str(size))
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.request("GET", f"/v2/{name}/blobs/{expected}", headers={"Authorization": registry.auth})
    response = conn.getresponse()
    assert response.status == 200
    back = hashlib.sha256()
    while piece := response.read(BLOCK):
        back.update(piece)
    conn.close()
    assert f"sha256:{back.hexdigest()}" == expected
    # Held in memory, 160 MB would show; streamed, the peak barely moves.
    assert _kib(server, "VmHWM") < rss_before + 64 * 1024


def test_docker_pushes_a_large_layer(
    tmp_path: Path,
    sandbox_handle: Sandbox,
    ecr: Any,
    registry: RegistryHttp,
    images: Images,
    repository: Callable[..., str],
) -> None:
    name = repository()
    server = int(sandbox_handle.status().components[0].pid or 0)
    rss_before = _kib(server, "VmRSS")
    (tmp_path / "Dockerfile").write_text("FROM local/busybox:1\nCOPY layer /layer\n")
    with (tmp_path / "layer").open("wb") as out:
        for _ in range(SIZE // BLOCK):
            out.write(os.urandom(BLOCK))  # incompressible: the pushed layer stays ~160 MB
    image, _ = images.client.images.build(path=str(tmp_path), rm=True)
    images.ids.append(image.id)
    (tmp_path / "layer").unlink()  # pytest keeps recent tmp folders; this one is big
    errors, digest = images.push(image, name, "large")
    assert errors == []
    manifest = json.loads(registry.manifest(name, "large")[2])
    assert max(layer["size"] for layer in manifest["layers"]) > SIZE
    listed = ecr.list_images(repositoryName=name)["imageIds"]
    assert listed == [{"imageDigest": digest, "imageTag": "large"}]
    assert _kib(server, "VmHWM") < rss_before + 64 * 1024
