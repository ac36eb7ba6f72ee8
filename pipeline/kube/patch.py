"""Which containers change, and the strategic-merge patch that changes only them.

A strategic-merge patch merges `containers` by name: a container the patch
does not mention keeps everything, and `initContainers` are a separate list
the patch never names. A name the Deployment does not have would be
*appended* as a new container by the server, so unknown names are refused
here, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline import imageref
from pipeline.deployment import DeployError
from pipeline.kube.ports import KubeObject

#: Deployment annotation naming the commit the pipeline deployed (for the "never backwards" guard).
REVISION_ANNOTATION = "pipeline.revision"


@dataclass(frozen=True)
class Container:
    name: str
    image: str


@dataclass(frozen=True)
class Change:
    container: str
    before: str
    after: str

    def describe(self) -> str:
        return f'container "{self.container}": {self.before} -> {self.after}'


def _pod_spec(obj: KubeObject) -> Mapping[str, Any]:
    spec = obj.get("spec") or {}
    template = spec.get("template") or {}
    return template.get("spec") or {}


def containers(obj: KubeObject, key: str = "containers") -> list[Container]:
    return [
        Container(str(c.get("name", "")), str(c.get("image", "")))
        for c in _pod_spec(obj).get(key) or []
        if isinstance(c, Mapping)
    ]


def revision(obj: KubeObject) -> str | None:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(REVISION_ANNOTATION)
    return str(value) if value else None


def select(
    obj: KubeObject, wanted: Sequence[str] | None, repository: str, where: str
) -> list[Container]:
    """The containers to change: those named, or by default those running `repository`."""
    present = containers(obj)
    names = [c.name for c in present]
    if wanted:
        init_names = {c.name for c in containers(obj, "initContainers")}
        for name in wanted:
            if name not in names:
                kind = (
                    " (an init container; only containers are changed)"
                    if name in init_names
                    else ""
                )
                raise DeployError(
                    f"{where} has no container named {name!r}{kind}; its containers: "
                    + (", ".join(names) or "none")
                )
        return [c for c in present if c.name in wanted]
    mine = [c for c in present if _runs(c.image, repository)]
    if not mine:
        running = ", ".join(f"{c.name} ({c.image})" for c in present) or "none"
        raise DeployError(
            f"no container of {where} runs {repository}; name the containers to change with"
            f" `containers:` (its containers: {running})"
        )
    return mine


def _runs(image: str, repository: str) -> bool:
    ref = imageref.parse(image)
    return ref is not None and imageref.same_repository(ref.repository, repository)


def changes(selected: Sequence[Container], image: str) -> list[Change]:
    return [Change(c.name, c.image, image) for c in selected if not same_image(c.image, image)]


def same_image(running: str, wanted: str) -> bool:
    """`repo:1.2.3@sha256:x` runs exactly what `repo@sha256:x` names: no rollout for that."""
    if running == wanted:
        return True
    a, b = imageref.parse(running), imageref.parse(wanted)
    return bool(
        a
        and b
        and a.digest
        and a.digest == b.digest
        and imageref.same_repository(a.repository, b.repository)
    )


def image_patch(
    pairs: Sequence[tuple[str, str]], annotation: tuple[str, str | None] | None = None
) -> dict[str, Any]:
    """Set `image` of the named containers (and, optionally, one annotation; None deletes it)."""
    patch: dict[str, Any] = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": name, "image": image} for name, image in pairs]}
            }
        }
    }
    if annotation is not None:
        key, value = annotation
        patch["metadata"] = {"annotations": {key: value}}
    return patch


def forward(changed: Sequence[Change], revision: str | None) -> dict[str, Any]:
    note = (REVISION_ANNOTATION, revision) if revision else None
    return image_patch([(c.container, c.after) for c in changed], note)


def backward(
    changed: Sequence[Change], previous_revision: str | None, revision: str | None
) -> dict[str, Any]:
    """Undo `forward`: the previous images, and the previous revision note (or none)."""
    note = (REVISION_ANNOTATION, previous_revision) if revision else None
    return image_patch([(c.container, c.before) for c in changed], note)
