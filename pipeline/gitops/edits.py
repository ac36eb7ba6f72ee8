"""Point one manifest file at a new image: which fields change, and to what.

In order of precedence:
1. A file with Flux setter markers changes only its marked fields
   (markers.py).
2. Otherwise every document is searched for this image's repository:
   kustomization `images:` entries (kustomize.py), container and Helm
   `image: REPO[:TAG][@DIGEST]` fields (Deployments, StatefulSets, CronJobs,
   Pods, any document of a multi-document file), and Helm `image:` maps with
   `repository` (and `registry`), `tag` and `digest`.
References to other repositories are never touched, and a file that needs no
change comes back identical, so a second run changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipeline import imageref
from pipeline.gitops import kustomize, markers, spans
from pipeline.gitops.spans import Edit
from pipeline.gitops.target import NewImage


@dataclass(frozen=True)
class Rewritten:
    text: str
    previous: tuple[str, ...]  # the values replaced, in file order, each once
    #: the file refers to this image at all (changed now or already pointing at it)
    found: bool = True


def rewrite(text: str, image: NewImage, where: str) -> Rewritten:
    """`text` with this image's references pointed at `image`; `where` names the file."""
    edits, found = _edits(text, image, where)
    previous: list[str] = []
    for edit in sorted(edits, key=lambda e: e.start):
        if edit.was and edit.was not in previous:
            previous.append(edit.was)
    return Rewritten(spans.apply(text, edits), tuple(previous), found)


def _edits(text: str, image: NewImage, where: str) -> tuple[list[Edit], bool]:
    """The edits, and whether any field or entry of the file is this image's."""
    docs = spans.compose(text, where)
    marked = markers.edits(text, docs, image, where)
    if marked is not None:
        return marked
    file_name = where.replace("\\", "/").rsplit("/", 1)[-1]
    out: list[Edit] = []
    found = False
    for doc in docs:
        if kustomize.is_kustomization(doc, file_name):
            found = found or bool(kustomize.entries(doc, image))
            out.extend(kustomize.edits(text, doc, image))
        fields, seen = _image_fields(doc, image, where)
        out.extend(fields)
        found = found or seen
    return out, found


def _image_fields(doc: Any, image: NewImage, where: str) -> tuple[list[Edit], bool]:
    out: list[Edit] = []
    found = False
    for node in spans.walk(doc):
        for key, value in spans.pairs(node):
            if not (spans.is_scalar(key) and key.value == "image"):
                continue
            if spans.is_scalar(value):
                ref = imageref.parse(str(value.value))
                if ref is None or not image.names(ref.repository):
                    continue
                found = True
                if ref.digest == image.digest:
                    continue  # `repo:1.2.3@sha256:same` already pins this image: left as written
                edit = spans.replace(value, image.ref)
                if edit:
                    out.append(edit)
            elif spans.kind(value) == "MappingNode" and _helm_image(value, image):
                found = True
                out.extend(_helm(value, image, where))
    return out, found


def _helm_image(node: Any, image: NewImage) -> bool:
    """Is `image: {registry?, repository, ...}` (as Helm charts write it) this image?"""
    repository = spans.text_of(spans.get(node, "repository"))
    if not repository:
        return False
    registry = spans.text_of(spans.get(node, "registry"))
    full = f"{registry.rstrip('/')}/{repository}" if registry else repository
    return image.names(full)


def _helm(node: Any, image: NewImage, where: str) -> list[Edit]:
    """`image: {registry?, repository, tag?, digest?}`: its `tag` and/or `digest`."""
    tag, digest = spans.get(node, "tag"), spans.get(node, "digest")
    edits: list[Edit | None] = []
    if digest is not None and spans.is_scalar(digest):
        edits.append(spans.replace(digest, image.digest))
        if tag is not None and spans.is_scalar(tag) and image.tag:
            edits.append(spans.replace(tag, image.tag))  # keeps the readable tag in step
    elif tag is not None and spans.is_scalar(tag):
        edits.append(spans.replace(tag, image.field("tag", f"{where}:{tag.start_mark.line + 1}: ")))
    return [e for e in edits if e]
