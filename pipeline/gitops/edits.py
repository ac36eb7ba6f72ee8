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

from dataclasses import dataclass, field
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
    #: the whole references (`repo:tag`, `repo@sha256:...`) this image's fields held
    #: before the edit, for the "never backwards" guard
    running: tuple[str, ...] = ()


@dataclass
class _Seen:
    found: bool = False
    refs: list[str] = field(default_factory=list)

    def add(self, ref: str | None) -> None:
        self.found = True
        if ref and ref not in self.refs:
            self.refs.append(ref)


def rewrite(text: str, image: NewImage, where: str) -> Rewritten:
    """`text` with this image's references pointed at `image`; `where` names the file."""
    edits, seen = _edits(text, image, where)
    previous: list[str] = []
    for edit in sorted(edits, key=lambda e: e.start):
        if edit.was and edit.was not in previous:
            previous.append(edit.was)
    return Rewritten(spans.apply(text, edits), tuple(previous), seen.found, tuple(seen.refs))


def _edits(text: str, image: NewImage, where: str) -> tuple[list[Edit], _Seen]:
    """The edits, and what of the file is this image's."""
    docs = spans.compose(text, where)
    seen = _Seen()
    marked = markers.edits(text, docs, image, where)
    if marked is not None:
        edits, refs = marked
        for ref in refs:
            seen.add(ref)
        return edits, seen
    file_name = where.replace("\\", "/").rsplit("/", 1)[-1]
    out: list[Edit] = []
    for doc in docs:
        if kustomize.is_kustomization(doc, file_name):
            for entry in kustomize.entries(doc, image):
                seen.add(kustomize.reference(entry))
            out.extend(kustomize.edits(text, doc, image))
        out.extend(_image_fields(doc, image, where, seen))
    return out, seen


def _image_fields(doc: Any, image: NewImage, where: str, seen: _Seen) -> list[Edit]:
    out: list[Edit] = []
    for node in spans.walk(doc):
        for key, value in spans.pairs(node):
            if not (spans.is_scalar(key) and key.value == "image"):
                continue
            if spans.is_scalar(value):
                ref = imageref.parse(str(value.value))
                if ref is None or not image.names(ref.repository):
                    continue
                seen.add(str(value.value))
                if ref.digest == image.digest:
                    continue  # `repo:1.2.3@sha256:same` already pins this image: left as written
                edit = spans.replace(value, image.ref)
                if edit:
                    out.append(edit)
            elif spans.kind(value) == "MappingNode":
                full = _helm_image(value, image)
                if full is not None:
                    seen.add(_helm_reference(value, full))
                    out.extend(_helm(value, image, where))
    return out


def _helm_image(node: Any, image: NewImage) -> str | None:
    """`image: {registry?, repository, ...}` as Helm charts write it: its repository, if ours."""
    repository = spans.text_of(spans.get(node, "repository"))
    if not repository:
        return None
    registry = spans.text_of(spans.get(node, "registry"))
    full = f"{registry.rstrip('/')}/{repository}" if registry else repository
    return full if image.names(full) else None


def _helm_reference(node: Any, full: str) -> str | None:
    tag = spans.text_of(spans.get(node, "tag"))
    digest = spans.text_of(spans.get(node, "digest"))
    if digest:
        return f"{full}@{digest}"
    return f"{full}:{tag}" if tag else None


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
