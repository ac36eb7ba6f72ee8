"""Kustomization `images:` entries: point the one for this image at its digest.

An entry is this image's when its `newName` (or, without one, its `name`)
is this image's repository. kustomize lets `digest` win over `newTag`; a
file holding both is ambiguous (Flux once left such files behind, fluxcd/pkg
#1267), so the entry is left with exactly one: `digest`, or `newTag` where
the entry already pins by tag and the image has an immutable tag.
"""

from __future__ import annotations

from typing import Any

from pipeline.gitops import spans
from pipeline.gitops.spans import Edit
from pipeline.gitops.target import NewImage

FILE_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
_PINS = ("digest", "newTag")


def is_kustomization(doc: Any, file_name: str) -> bool:
    if spans.kind(doc) != "MappingNode" or spans.kind(spans.get(doc, "images")) != "SequenceNode":
        return False
    api = spans.text_of(spans.get(doc, "apiVersion")) or ""
    return (
        file_name in FILE_NAMES
        or spans.text_of(spans.get(doc, "kind")) == "Kustomization"
        or api.startswith("kustomize.config.k8s.io/")
    )


def entries(doc: Any, image: NewImage) -> list[Any]:
    """The `images:` entries that are this image's, changed or not."""
    images = spans.get(doc, "images")
    found = []
    for entry in images.value if images is not None else []:
        name = spans.text_of(spans.get(entry, "newName")) or spans.text_of(spans.get(entry, "name"))
        if name and image.names(name):
            found.append(entry)
    return found


def reference(entry: Any) -> str | None:
    """The whole reference an entry pins today (`name@digest` wins, as in kustomize)."""
    name = spans.text_of(spans.get(entry, "newName")) or spans.text_of(spans.get(entry, "name"))
    digest = spans.text_of(spans.get(entry, "digest"))
    tag = spans.text_of(spans.get(entry, "newTag"))
    if not name or not (digest or tag):
        return None
    return f"{name}@{digest}" if digest else f"{name}:{tag}"


def edits(text: str, doc: Any, image: NewImage) -> list[Edit]:
    out: list[Edit] = []
    for entry in entries(doc, image):
        out.extend(_entry(text, entry, image))
    return out


def _pair(entry: Any, key: str) -> tuple[Any, Any] | None:
    for k, v in spans.pairs(entry):
        if spans.is_scalar(k) and k.value == key and spans.is_scalar(v):
            return k, v
    return None


def _entry(text: str, entry: Any, image: NewImage) -> list[Edit]:
    tag, digest = _pair(entry, "newTag"), _pair(entry, "digest")
    if tag is not None and image.tag is not None:
        keep, value, drop = "newTag", image.tag, digest
    else:
        keep, value, drop = "digest", image.digest, tag
    kept = tag if keep == "newTag" else digest
    if drop is None and kept is not None and str(kept[1].value) == value:
        return []
    if entry.flow_style:
        return _flow(text, entry, keep, value, drop)
    if kept is None and drop is None:
        return [_insert(text, entry, f"{keep}: {spans.render(value, None)}")]
    if kept is None:
        # the other key becomes this one, in its place
        assert drop is not None
        return [_swap(drop, keep, value)]
    changed = spans.replace(kept[1], value)
    if drop is None:
        return [changed] if changed else []
    if _removable(text, *drop):
        return [e for e in (changed, _delete_line(text, drop[0])) if e]
    # `- newTag: x` opens the entry and cannot go on its own: the kept pair moves there
    return [
        _swap(drop, keep, value, was=str(kept[1].value)),
        _delete_line(text, kept[0]),
    ]


def _swap(pair: tuple[Any, Any], key: str, value: str, was: str | None = None) -> Edit:
    """One `key: value` pair in place of another."""
    old = str(pair[1].value)
    return Edit(pair[0].start_mark.index, pair[1].end_mark.index, _new(key, value), was or old)


def _new(key: str, value: str) -> str:
    return f"{key}: {spans.render(value, None)}"


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _line_end(text: str, index: int) -> int:
    """Just past the newline ending the line that holds `index` (or the end of the text)."""
    end = text.find("\n", index)
    return len(text) if end < 0 else end + 1


def _removable(text: str, key: Any, value: Any) -> bool:
    """Is the pair alone on its line (with at most a comment after it)?"""
    before = text[_line_start(text, key.start_mark.index) : key.start_mark.index]
    after = text[value.end_mark.index : _line_end(text, value.end_mark.index)].strip()
    same_line = key.start_mark.line == value.end_mark.line
    return same_line and not before.strip() and (not after or after.startswith("#"))


def _delete_line(text: str, key: Any) -> Edit:
    start = _line_start(text, key.start_mark.index)
    return Edit(start, _line_end(text, key.start_mark.index), "")


def _insert(text: str, entry: Any, pair: str) -> Edit:
    """A new last key of a block mapping, indented like its other keys."""
    last_value = entry.value[-1][1]
    indent = " " * entry.value[0][0].start_mark.column
    at = _line_end(text, last_value.end_mark.index)
    # a CRLF file stays CRLF: the new line ends like the one it follows (or, after a
    # last line without an ending, like the file's other lines)
    ended = text[:at].endswith("\n")
    crlf = text[:at].endswith("\r\n") if ended else "\r\n" in text
    newline = "\r\n" if crlf else "\n"
    lead = "" if ended else newline
    return Edit(at, at, f"{lead}{indent}{pair}{newline}")


def _flow(text: str, entry: Any, keep: str, value: str, drop: tuple[Any, Any] | None) -> list[Edit]:
    """`{name: a, newTag: b}`: written again from its own pieces, one key changed."""
    parts: list[str] = []
    placed = False
    for k, v in entry.value:
        if drop is not None and k is drop[0]:
            continue
        if spans.is_scalar(k) and k.value == keep:
            parts.append(
                f"{text[k.start_mark.index : k.end_mark.index]}: {spans.render(value, v.style)}"
            )
            placed = True
        else:
            parts.append(text[k.start_mark.index : v.end_mark.index])
    if not placed:
        parts.append(_new(keep, value))
    new = "{" + ", ".join(parts) + "}"
    old = text[entry.start_mark.index : entry.end_mark.index]
    was = next(
        (str(v.value) for k, v in entry.value if spans.is_scalar(k) and k.value in _PINS), None
    )
    return [] if new == old else [Edit(entry.start_mark.index, entry.end_mark.index, new, was)]
