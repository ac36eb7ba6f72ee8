"""The files CodePipeline's ECS actions read: imagedefinitions.json and imageDetail.json.

`imagedefinitions.json` (the ECS standard deploy action) is a JSON list of
`{"name": container, "imageUri": uri}`, UTF-8, at most 100 KB;
`imageDetail.json` (the CodeDeploy blue/green action) is `{"ImageURI": uri}`
(reference/auth-push-deploy.md B9). Both are written atomically (a reader
never sees half a file) and byte for byte the same for the same inputs.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.deployment import Deployment
from pipeline.errors import StageError

MAX_IMAGEDEFINITIONS_BYTES = 100 * 1024


class ArtifactError(StageError):
    """A CodePipeline file could not be written, or would not be accepted."""


@dataclass(frozen=True)
class ImageDefinition:
    name: str  # the container name in the task definition
    image_uri: str


def imagedefinitions_text(entries: Iterable[ImageDefinition]) -> str:
    seen: dict[str, str] = {}
    for entry in entries:
        if not entry.name or not entry.image_uri:
            raise ArtifactError("imagedefinitions.json: every entry needs a name and an imageUri")
        other = seen.setdefault(entry.name, entry.image_uri)
        if other != entry.image_uri:
            raise ArtifactError(
                f"imagedefinitions.json: container {entry.name} would get two images"
                f" ({other} and {entry.image_uri}); CodePipeline takes one per container"
            )
    items = [{"name": name, "imageUri": uri} for name, uri in seen.items()]
    text = json.dumps(items, indent=2, ensure_ascii=False) + "\n"
    size = len(text.encode("utf-8"))
    if size > MAX_IMAGEDEFINITIONS_BYTES:
        raise ArtifactError(
            f"imagedefinitions.json would be {size} bytes; CodePipeline accepts at most 100 KB"
            f" ({MAX_IMAGEDEFINITIONS_BYTES} bytes)"
        )
    return text


def image_detail_text(image_uri: str) -> str:
    if not image_uri:
        raise ArtifactError("imageDetail.json needs an image URI")
    return json.dumps({"ImageURI": image_uri}, indent=2, ensure_ascii=False) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder and a rename."""
    data = text.encode("utf-8")
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise ArtifactError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; CI uploads read it as another user
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise ArtifactError(f"cannot write {path}: {err.strerror or err}") from None


def definitions(deployment: Deployment) -> tuple[ImageDefinition, ...]:
    """imagedefinitions.json entries of an ECS deploy: each container that runs the image."""
    return tuple(ImageDefinition(name, deployment.image) for name in deployment.containers)


def write_imagedefinitions(path: Path, entries: Iterable[ImageDefinition]) -> None:
    write_atomically(path, imagedefinitions_text(entries))


def write_image_detail(path: Path, image_uri: str) -> None:
    write_atomically(path, image_detail_text(image_uri))
