"""Push stage: upload each image once, then add its other immutable tags by manifest.

Only immutable tags (`sha-...`, `1.2.3`) go up here; mutable ones move in the
promote stage, after the gate. Every registry call runs under the retry
policy; the digest comes from the push stream and is checked against the
registry. A tag already held by an IMMUTABLE repository is a success when it
names the same image, and a clear error when it names another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from pipeline import log, retry
from pipeline.adapters.ports import CredentialSource, ImagePusher, Manifest, Registry, Retagger
from pipeline.errors import PushError
from pipeline.plan import ImagePlan

T = TypeVar("T")


@dataclass(frozen=True)
class Pushed:
    """What one image's push left in the registry (the stage's value is results.Published)."""

    digest: str
    tags: tuple[str, ...]


class Named(Protocol):
    """An image as tagging needs it: its registry host and repository (plan or published)."""

    @property
    def image(self) -> str: ...


@dataclass
class Pusher:
    """Everything the stage needs, handed in by the composition root."""

    engine: ImagePusher
    registry: Registry
    retagger: Retagger
    credentials: CredentialSource
    policy: retry.Policy
    waits: retry.Waits = field(default_factory=retry.Waits)
    dry_run: bool = False

    def call(self, what: str, operation: Callable[[], T]) -> T:
        """`operation` under the retry policy: its time limit, its backoff, one re-auth."""

        def reauth() -> None:
            self.credentials.refresh()

        return retry.call(
            operation,
            what=what,
            policy=self.policy,
            waits=self.waits,
            reauth=reauth,
            verify=self.registry.accepts_credentials,
            log=lambda m: log.LOG.warning("%s", m),
        )

    def sign_in(self) -> None:
        """Fetch the credentials now (an ECR token: AWS, retried like any registry call)."""
        self.call("get registry credentials", self.credentials.get)

    def _fail(self, what: str, err: retry.RegistryFailure) -> PushError:
        if err.kind in (retry.Kind.REAUTH, retry.Kind.EXPIRED):  # which of the 401s this was
            return PushError(
                f"{what}: the registry rejects our credentials, also freshly fetched ones"
                f" ({err}); check the registry credentials and their permissions"
            )
        return PushError(f"{what}: {err}")

    # ------------------------------------------------------------------ steps

    def upload(self, image: ImagePlan, tag: str, path: str) -> Manifest:
        """docker push of one tag; returns the manifest the registry confirmed holding."""
        what = f"push {image.image}:{tag}"

        def attempt() -> str:
            return self.engine.push(
                image.image,
                tag,
                self.credentials.get(),
                lambda line: log.LOG.debug("[%s] %s", image.name, line),
            )

        try:
            digest = self.call(what, attempt)
        except retry.RegistryFailure as err:
            if err.kind is retry.Kind.IMMUTABLE:
                return self._same_image_or_fail(image, path, tag)
            raise self._fail(what, err) from None
        stored = self.call(f"check {image.image}:{tag}", lambda: self.registry.manifest(path, tag))
        if stored is None or stored.digest != digest:
            found = stored.digest if stored else "nothing"
            raise PushError(f"{what}: pushed {digest} but the registry holds {found}")
        return stored

    def _same_image_or_fail(self, image: ImagePlan, path: str, tag: str) -> Manifest:
        """An IMMUTABLE repository refused the tag: fine if it already names our image."""
        existing = self.call(f"read {image.image}:{tag}", lambda: self.registry.manifest(path, tag))
        local_id = self.engine.image_id(f"{image.image}:{tag}")
        if existing is not None and local_id:
            config_digest = _config_digest(existing)
            if config_digest == local_id:
                log.LOG.info(
                    "%s:%s already holds this image (%s)", image.image, tag, existing.digest
                )
                return existing
        held = existing.digest if existing else "another image"
        raise PushError(
            f"push {image.image}:{tag}: the repository is immutable and {tag} already names"
            f" {held}, a different image; a re-run of the same commit must rebuild the same"
            " inputs, or use a new tag"
        )

    def add_tag(self, image: Named, path: str, tag: str, manifest: Manifest) -> None:
        """Add `tag` to the pushed manifest (by manifest, never by pushing layers again):
        the push's immutable tags here, the promote stage's mutable ones later."""
        what = f"tag {image.image}:{tag}"
        if self.dry_run:
            log.LOG.info("dry-run: would tag %s:%s -> %s", image.image, tag, manifest.digest)
            return
        try:
            self.call(what, lambda: self.retagger.tag(path, tag, manifest))
        except retry.RegistryFailure as err:
            if err.kind is not retry.Kind.IMMUTABLE:
                raise self._fail(what, err) from None
            existing = self.call(
                f"read {image.image}:{tag}", lambda: self.registry.manifest(path, tag)
            )
            if existing is None or existing.digest != manifest.digest:
                raise PushError(
                    f"{what}: the repository is immutable and {tag} already names"
                    f" {existing.digest if existing else 'another image'}, not {manifest.digest}"
                ) from None

    # ------------------------------------------------------------------ images

    def publish(self, image: ImagePlan, path: str) -> Pushed:
        tags = image.tags.immutable
        if self.dry_run:
            for tag in tags:
                log.LOG.info("dry-run: would push %s:%s", image.image, tag)
            return Pushed("", tuple(tags))
        manifest = self.upload(image, tags[0], path)
        for tag in tags[1:]:
            self.add_tag(image, path, tag, manifest)
        log.LOG.info("pushed %s@%s as %s", image.image, manifest.digest, ", ".join(tags))
        return Pushed(manifest.digest, tuple(tags))

    def complete(self, image: ImagePlan, path: str, manifest: Manifest, held: set[str]) -> Pushed:
        """A published image with the same inputs: add only the tags it lacks."""
        tags = image.tags.immutable
        for tag in tags:
            if tag not in held:
                self.add_tag(image, path, tag, manifest)
        added = [t for t in tags if t not in held]
        log.LOG.info(
            "%s: unchanged since %s; reused %s%s",
            image.name,
            ", ".join(sorted(held)),
            manifest.digest,
            f", added {', '.join(added)}" if added else "",
        )
        return Pushed(manifest.digest, tuple(tags))


def _config_digest(manifest: Manifest) -> str | None:
    import json

    try:
        doc = json.loads(manifest.body)
    except ValueError:
        return None
    digest = (doc.get("config") or {}).get("digest")
    return str(digest) if digest else None
