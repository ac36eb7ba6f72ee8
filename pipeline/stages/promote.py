"""Promote stage: Published + GateResult -> Promoted, the mutable tags moved by manifest.

The push stage uploads each image under its immutable tags only and leaves
the mutable ones (latest, major, major.minor, branch, pr, edge, ...) pending
(README decision 6). Here they move onto the pushed digest, by manifest (ECR
PutImage, or a manifest PUT on a generic registry), never by pushing layers
again, and only when the whole release passed the gate: one blocked image
holds every image's tags. A gate that skipped (scanning off) lets them move.

Every image's manifest, and what each tag names now, is read before any tag
moves, so a registry that cannot serve them stops the stage before anything
changed. When a tag then cannot be moved, the tags this stage already moved are
put back where they were (a tag that did not exist before cannot be taken
away by manifest, and the error says so), so a failed promote leaves the
release as it found it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from pipeline.adapters.ports import Manifest
from pipeline.errors import PipelineError, StageError
from pipeline.retry import RegistryFailure
from pipeline.stages.results import ImagePromoted, ImagePublished, Promoted, Published

if TYPE_CHECKING:
    from pipeline.scan.gate import GateResult
    from pipeline.stages.push import Pusher


class PromoteError(StageError):
    """A mutable tag could not be moved onto the published digest."""


class TagPort(Protocol):
    def manifest(self, image: ImagePublished) -> Manifest:
        """The manifest the registry holds under the image's published digest."""
        ...

    def current(self, image: ImagePublished, tag: str) -> Manifest | None:
        """What `tag` names in the image's repository now (None: no such tag)."""
        ...

    def add_tag(self, image: ImagePublished, tag: str, manifest: Manifest) -> None:
        """Point `tag` at `manifest` (by manifest: no layer moves)."""
        ...


def run(
    published: Published,
    gated: GateResult | None,
    tags: TagPort,
    *,
    dry_run: bool,
    log: Callable[[str], None] = lambda _m: None,
) -> Promoted:
    """Move each image's pending tags, or none at all (a blocked or missing gate decision)."""
    if gated is None:
        why = "no gate decision for this release: no mutable tag moved"
        return Promoted(tuple(ImagePromoted(i.name, error=why) for i in published.images))
    if gated.blocked:
        log("the gate blocked this release: no mutable tag moved")
        return Promoted(tuple(ImagePromoted(i.name) for i in published.images))
    unpublished = [i.name for i in published.images if i.error or not (i.digest or dry_run)]
    if unpublished:
        why = f"not promoted: {', '.join(unpublished)} not published"
        return Promoted(tuple(ImagePromoted(i.name, error=why) for i in published.images))
    if dry_run:
        for image in published.images:
            if image.pending_tags:
                target = image.ref if image.digest else f"{image.image} (the digest pushed)"
                log(f"dry-run: would move {', '.join(image.pending_tags)} to {target}")
        return Promoted(tuple(ImagePromoted(i.name) for i in published.images))
    moving = [i for i in published.images if i.pending_tags]
    try:
        manifests = {i.name: tags.manifest(i) for i in moving}
        before = {(i.name, t): tags.current(i, t) for i in moving for t in i.pending_tags}
    except PipelineError as err:
        return Promoted(tuple(ImagePromoted(i.name, error=str(err)) for i in published.images))
    moved: list[tuple[ImagePublished, str]] = []
    for image in moving:
        for tag in image.pending_tags:
            try:
                tags.add_tag(image, tag, manifests[image.name])
            except PipelineError as err:
                return _undo(published, moved, before, tags, image.name, str(err), log)
            except KeyboardInterrupt:
                # Ctrl-C between two moves: a release half promoted is what the gate's
                # one decision forbids, so what moved goes back before the run stops.
                _undo(published, moved, before, tags, image.name, "interrupted", log)
                raise
            moved.append((image, tag))
        log(f"promoted {image.ref} as {', '.join(image.pending_tags)}")
    return Promoted(tuple(ImagePromoted(i.name, tuple(i.pending_tags)) for i in published.images))


def _undo(
    published: Published,
    moved: list[tuple[ImagePublished, str]],
    before: dict[tuple[str, str], Manifest | None],
    tags: TagPort,
    failed: str,
    error: str,
    log: Callable[[str], None],
) -> Promoted:
    """Put back every tag this stage moved; the result names what stayed moved."""
    stayed: dict[str, list[str]] = {}
    for image, tag in reversed(moved):
        previous = before[(image.name, tag)]
        if previous is not None and previous.digest != image.digest:
            try:
                tags.add_tag(image, tag, previous)
                log(f"put {image.image}:{tag} back on {previous.digest}")
                continue
            except PipelineError as err:
                log(f"could not put {image.image}:{tag} back: {err}")
        elif previous is not None:
            continue  # it named this digest already: nothing changed
        stayed.setdefault(image.name, []).insert(0, tag)
    if stayed:
        names = "; ".join(f"{n}: {', '.join(t)}" for n, t in stayed.items())
        error += (
            "; still on the new digest (they did not exist before, or could not be put"
            f" back): {names}"
        )
    elif moved:
        error += "; the tags moved before were put back"
    return Promoted(
        tuple(
            ImagePromoted(
                i.name, tuple(stayed.get(i.name, ())), error if i.name == failed else None
            )
            for i in published.images
        )
    )


@dataclass(frozen=True)
class PusherTags:
    """The TagPort over the push stage's own registry client and retagger (credentials in)."""

    pusher: Pusher

    def manifest(self, image: ImagePublished) -> Manifest:
        what = f"read {image.ref}"

        def read() -> Manifest | None:
            return self.pusher.registry.manifest(image.repository, image.digest or "")

        try:
            found = self.pusher.call(what, read)
        except RegistryFailure as err:
            raise PromoteError(f"{what}: {err}") from None
        if found is None:
            raise PromoteError(f"{what}: the registry no longer holds this image")
        return found

    def current(self, image: ImagePublished, tag: str) -> Manifest | None:
        what = f"read {image.image}:{tag}"
        try:
            return self.pusher.call(
                what, lambda: self.pusher.registry.manifest(image.repository, tag)
            )
        except RegistryFailure as err:
            raise PromoteError(f"{what}: {err}") from None

    def add_tag(self, image: ImagePublished, tag: str, manifest: Manifest) -> None:
        self.pusher.add_tag(image, image.repository, tag, manifest)
