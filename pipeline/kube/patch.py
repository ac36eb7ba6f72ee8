"""Which containers change, and the strategic-merge patch that changes only them.

A strategic-merge patch merges `containers` and `initContainers` by name: a
container the patch does not mention keeps everything. As `kubectl set image`
does, init containers count: one running this repository (a migration, say)
moves with the app by default, and one can be named. A name the Deployment
does not have would be *appended* as a new container by the server, so
unknown names are refused here, before anything is sent.
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


INIT = "initContainers"


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    init: bool = False  # an init container


@dataclass(frozen=True)
class Change:
    container: str
    before: str
    after: str
    init: bool = False

    def describe(self) -> str:
        kind = "init container" if self.init else "container"
        return f'{kind} "{self.container}": {self.before} -> {self.after}'


def _pod_spec(obj: KubeObject) -> Mapping[str, Any]:
    spec = obj.get("spec") or {}
    template = spec.get("template") or {}
    return template.get("spec") or {}


def containers(obj: KubeObject, key: str = "containers") -> list[Container]:
    return [
        Container(str(c.get("name", "")), str(c.get("image", "")), key == INIT)
        for c in _pod_spec(obj).get(key) or []
        if isinstance(c, Mapping)
    ]


def revision(obj: KubeObject) -> str | None:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(REVISION_ANNOTATION)
    return str(value) if value else None


def select(
    obj: KubeObject,
    wanted: Sequence[str] | None,
    repository: str,
    where: str,
    also: Sequence[str] = (),
) -> list[Container]:
    """The containers to change: those named, or by default those running `repository`.

    Init containers count as `kubectl set image` counts them; they come after
    the containers. `also`: other names of the repository (ECR's own host when
    images are pushed through a host override).
    """
    present = containers(obj) + containers(obj, INIT)
    if wanted:
        names = {c.name for c in present}
        for name in wanted:
            if name not in names:
                raise DeployError(
                    f"{where} has no container named {name!r}; its containers: {_listing(obj)}"
                )
        return [c for c in present if c.name in wanted]
    mine = [c for c in present if _runs(c.image, (repository, *also))]
    if not mine:
        running = ", ".join(f"{c.name} ({c.image}{', init' if c.init else ''})" for c in present)
        raise DeployError(
            f"no container of {where} runs {repository}; name the containers to change with"
            f" `containers:` (its containers: {running or 'none'})"
        )
    return mine


def _listing(obj: KubeObject) -> str:
    names = ", ".join(c.name for c in containers(obj)) or "none"
    init = ", ".join(c.name for c in containers(obj, INIT))
    return f"{names} (init containers: {init})" if init else names


def _runs(image: str, repositories: Sequence[str]) -> bool:
    ref = imageref.parse(image)
    return ref is not None and any(
        imageref.same_repository(ref.repository, r) for r in repositories
    )


def changes(selected: Sequence[Container], image: str, also: Sequence[str] = ()) -> list[Change]:
    return [
        Change(c.name, c.image, image, c.init)
        for c in selected
        if not same_image(c.image, image, also)
    ]


def same_image(running: str, wanted: str, also: Sequence[str] = ()) -> bool:
    """`repo:1.2.3@sha256:x` runs exactly what `repo@sha256:x` names: no rollout for that.

    `also`: other names of `wanted`'s repository.
    """
    if running == wanted:
        return True
    a, b = imageref.parse(running), imageref.parse(wanted)
    return bool(
        a and b and a.digest and a.digest == b.digest and _runs(running, (b.repository, *also))
    )


def image_patch(
    pairs: Sequence[tuple[str, str, bool]], annotation: tuple[str, str | None] | None = None
) -> dict[str, Any]:
    """Set `image` of the named (init) containers; optionally one annotation (None deletes it).

    `pairs` are (name, image, is an init container).
    """
    pod: dict[str, Any] = {}
    for name, image, init in pairs:
        pod.setdefault(INIT if init else "containers", []).append({"name": name, "image": image})
    patch: dict[str, Any] = {"spec": {"template": {"spec": pod}}}
    if annotation is not None:
        key, value = annotation
        patch["metadata"] = {"annotations": {key: value}}
    return patch


def forward(changed: Sequence[Change], revision: str | None) -> dict[str, Any]:
    note = (REVISION_ANNOTATION, revision) if revision else None
    return image_patch([(c.container, c.after, c.init) for c in changed], note)


def backward(
    changed: Sequence[Change], previous_revision: str | None, revision: str | None
) -> dict[str, Any]:
    """Undo `forward`: the previous images, and the previous revision note (or none)."""
    note = (REVISION_ANNOTATION, previous_revision) if revision else None
    return image_patch([(c.container, c.before, c.init) for c in changed], note)
