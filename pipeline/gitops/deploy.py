"""GitOps write-back: point manifests at the pushed digest, commit, push.

The edit is re-applied rather than replayed when the push is refused
because the branch moved on: fetch the new tip, edit its files again, commit
again (a rebase of our change that cannot conflict, since it is made from
the files as they now are). If the new tip already has this image, nothing
more is committed.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline import imageref, templating
from pipeline.config.schema import ManifestTarget
from pipeline.deployment import DeployError, Deployment, Status
from pipeline.gitops.edits import rewrite
from pipeline.gitops.ports import Repositories, Workspace
from pipeline.gitops.target import NewImage, mask_url

LOG = logging.getLogger("pipeline")
#: Sees the references the files hold; raises a DeployError to refuse the deploy.
Guard = Callable[[Sequence[str]], None]
#: Pushes refused because someone else pushed first, before giving up.
PUSH_ATTEMPTS = 5


@dataclass(frozen=True)
class FileChange:
    path: Path  # resolved, inside the workspace
    name: str  # as written in `files:`
    before: str
    after: str
    previous: tuple[str, ...]
    running: tuple[str, ...] = ()  # whole references the file held before

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                f"a/{self.name}",
                f"b/{self.name}",
            )
        )


def deploy_manifest(
    settings: ManifestTarget,
    image: str,
    digest: str,
    version: str | None,
    sha: str | None,
    tag: str | None,
    ports: Repositories,
    dry_run: bool = False,
    also_matches: Sequence[str] = (),
    guard: Guard | None = None,
) -> Deployment:
    """`also_matches`: other names of the image's repository (ECR's own host when images
    are pushed through a host override); references to them are this image's too.

    `guard` sees the references the files hold before each edit (again on the new tip
    after a refused push) and raises a DeployError to refuse, say an older commit.
    """
    ref = imageref.parse(image)
    target = mask_url(f"{settings.repo}:{settings.branch}" if settings.branch else settings.repo)
    pinned = imageref.pinned(ref.repository, digest) if ref else image
    try:
        if ref is None or not digest.startswith("sha256:"):
            raise DeployError(f"deploy needs an image and its digest, got {image!r} {digest!r}")
        new = NewImage(settings.image, ref.repository, digest, tag, tuple(also_matches))
        workspace = ports.open(settings.repo, settings.branch, settings.push)
        target = workspace.label
        try:
            message = _message(settings, new, version, sha)
            return _deploy(settings, new, workspace, message, dry_run, guard)
        finally:
            workspace.close()
    except DeployError as err:
        return Deployment("manifest", target, pinned, None, "failed", str(err))


def _deploy(
    settings: ManifestTarget,
    image: NewImage,
    ws: Workspace,
    message: str,
    dry_run: bool,
    guard: Guard | None,
) -> Deployment:
    def result(status: Status, text: str, changes: Sequence[FileChange] = ()) -> Deployment:
        # whole references where the file spells them (a kustomize `newTag` alone is no image)
        held = [r for c in changes for r in c.running if not r.endswith(f"@{image.digest}")]
        previous = held or [p for c in changes for p in c.previous]
        before = ", ".join(dict.fromkeys(previous)) or None
        return Deployment("manifest", ws.label, image.ref, before, status, text)

    for attempt in range(1, PUSH_ATTEMPTS + 1):
        changes = edit(ws, settings.files, image)
        if not changes:
            return result(
                "skipped", f"nothing to change: {', '.join(settings.files)} already at {image.ref}"
            )
        if guard is not None:
            guard(list(dict.fromkeys(r for c in changes for r in c.running)))
        if dry_run:
            diff = "".join(c.diff() for c in changes)
            LOG.info("dry run: %s would change:\n%s", ws.label, diff.rstrip())
            return result(
                "skipped", f"dry run: would change {', '.join(c.name for c in changes)}", changes
            )
        for change in changes:
            change.path.write_bytes(change.after.encode("utf-8"))
        commit = ws.commit([c.path for c in changes], message)
        names = ", ".join(c.name for c in changes)
        if not settings.push:
            ws.publish_locally()
            return result("completed", f"committed {commit[:12]} ({names}); not pushed", changes)
        if ws.push():
            return result("completed", f"pushed {commit[:12]} ({names})", changes)
        LOG.info("%s moved on while we pushed (attempt %d); editing its new tip", ws.label, attempt)
        ws.sync()
    raise DeployError(
        f"{ws.label}: the push was refused {PUSH_ATTEMPTS} times (the branch keeps moving)"
    )


def edit(ws: Workspace, files: Sequence[str], image: NewImage) -> list[FileChange]:
    """What each file would become; files that would not change are left out."""
    changes: list[FileChange] = []
    seen: set[Path] = set()
    for name in files:
        path = _inside(ws, name)
        if path in seen:
            continue
        seen.add(path)
        try:
            # bytes, not read_text: universal newlines would turn a CRLF file into LF
            before = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise DeployError(f"{ws.label}: cannot read {name}: {err}") from err
        rewritten = rewrite(before, image, name)
        if not rewritten.found:
            # named in `files:` for this image, yet never names it: a typo in a path or a
            # repository, which "nothing to change" would report as deployed
            raise DeployError(
                f"{name} has nothing to set for {image.repository}: no image field,"
                " kustomization `images:` entry or Helm image map names it (in a file with"
                " $imagepolicy markers: no marker of its policy); nothing was changed"
            )
        if rewritten.text != before:
            changes.append(
                FileChange(
                    path, name, before, rewritten.text, rewritten.previous, rewritten.running
                )
            )
    return changes


def _inside(ws: Workspace, name: str) -> Path:
    """The file, which must exist and stay inside the repository once symlinks are followed."""
    top = ws.top.resolve()
    path = (ws.base / name).resolve()
    if not path.is_relative_to(top):
        raise DeployError(f"{ws.label}: {name} is outside the repository (after following links)")
    if not path.is_file():
        raise DeployError(f"{ws.label}: {name} does not exist")
    return path


def _message(
    settings: ManifestTarget, image: NewImage, version: str | None, sha: str | None
) -> str:
    values = {
        "image": settings.image,
        "repository": image.repository,
        "digest": image.digest,
        "tag": image.tag or version or sha,
        "version": version or image.tag or sha,
        "sha": sha,
    }
    text, out, position = settings.commit_message, [], 0
    for placeholder in templating.parse(text):  # a value this run lacks renders empty
        out.append(text[position : placeholder.start] + (values.get(placeholder.name) or ""))
        position = placeholder.end
    return ("".join(out) + text[position:]).strip()
