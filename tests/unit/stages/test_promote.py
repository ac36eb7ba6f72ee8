"""The promote stage: pending mutable tags move by manifest, only when the release passed."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from pipeline import retry
from pipeline.adapters.ports import Manifest
from pipeline.scan.gate import GateResult, ImageGate
from pipeline.stages import promote
from pipeline.stages.push import Pusher
from pipeline.stages.results import ImagePromoted, ImagePublished, Published
from tests.unit.fakes import FakeCredentials, FakeEngine, FakeRegistry, manifest_for

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def image(name: str, digest: str | None, pending: tuple[str, ...], **kw: object) -> ImagePublished:
    return ImagePublished(
        name,
        f"reg.example/team/{name}",
        f"team/{name}",
        digest,
        tags=("sha-abc1234",),
        pending_tags=pending,
        **kw,  # type: ignore[arg-type]
    )


PUBLISHED = Published(
    (image("api", D1, ("latest", "1.2")), image("web", D2, ("latest",)), image("job", D1, ()))
)


def gated(*decisions: str) -> GateResult:
    images = tuple(
        ImageGate(name, d)  # type: ignore[arg-type]
        for name, d in zip(("api", "web", "job"), decisions, strict=False)
    )
    overall = "block" if "block" in decisions else "pass" if "pass" in decisions else "skipped"
    return GateResult(overall, images)  # type: ignore[arg-type]


def manifest(digest: str) -> Manifest:
    return Manifest(digest, "application/vnd.oci.image.manifest.v1+json", b"{}")


OLD = "sha256:" + "0" * 64


@dataclass
class FakeTags:
    """Tags per (image, tag); `fail_on` refuses one move, `stuck` refuses moving a tag back."""

    fail_on: tuple[str, str] | None = None
    interrupt_on: tuple[str, str] | None = None
    unreadable: str | None = None
    stuck: tuple[str, str] | None = None
    held: dict[tuple[str, str], str] = field(default_factory=dict)
    moved: list[tuple[str, str, str]] = field(default_factory=list)
    read: list[str] = field(default_factory=list)

    def current(self, image: ImagePublished, tag: str) -> Manifest | None:
        digest = self.held.get((image.name, tag))
        return manifest(digest) if digest else None

    def manifest(self, image: ImagePublished) -> Manifest:
        self.read.append(image.name)
        if image.name == self.unreadable:
            raise promote.PromoteError(f"read {image.ref}: gone")
        assert image.digest
        return manifest(image.digest)

    def add_tag(self, image: ImagePublished, tag: str, manifest: Manifest) -> None:
        if (image.name, tag) == self.fail_on:
            raise promote.PromoteError(f"tag {image.image}:{tag}: denied")
        if (image.name, tag) == self.interrupt_on:
            raise KeyboardInterrupt
        if (image.name, tag) == self.stuck and manifest.digest != image.digest:
            raise promote.PromoteError(f"tag {image.image}:{tag}: denied")
        self.moved.append((image.name, tag, manifest.digest))
        self.held[(image.name, tag)] = manifest.digest


@pytest.mark.parametrize(
    ("case", "gate", "moved"),
    [
        (
            "a passed gate moves every pending tag onto each image's own digest",
            gated("pass", "pass", "pass"),
            [("api", "latest", D1), ("api", "1.2", D1), ("web", "latest", D2)],
        ),
        (
            "a gate skipped (scanning off) lets the tags move",
            gated("skipped", "skipped", "skipped"),
            [("api", "latest", D1), ("api", "1.2", D1), ("web", "latest", D2)],
        ),
        ("one blocked image holds every image's tags", gated("pass", "block", "pass"), []),
    ],
)
def test_what_moves(case: str, gate: GateResult, moved: list[tuple[str, str, str]]) -> None:
    tags = FakeTags()
    result = promote.run(PUBLISHED, gate, tags, dry_run=False)
    assert tags.moved == moved, case
    assert result.ok, case
    expected = {n: tuple(t for m, t, _ in moved if m == n) for n in ("api", "web", "job")}
    assert {i.name: i.tags for i in result.images} == expected, case


def test_no_gate_decision_moves_nothing_and_fails() -> None:
    tags = FakeTags()
    result = promote.run(PUBLISHED, None, tags, dry_run=False)
    assert tags.moved == [] and tags.read == []
    assert not result.ok
    assert all(i.error and "no gate decision" in i.error for i in result.images)


def test_a_dry_run_moves_nothing_and_says_what_it_would_do() -> None:
    tags = FakeTags()
    said: list[str] = []
    published = Published((image("api", None, ("latest",)), image("web", D2, ("main",))))
    result = promote.run(published, gated("pass", "pass"), tags, dry_run=True, log=said.append)
    assert tags.moved == [] and tags.read == []
    assert result.ok
    assert said == [
        "dry-run: would move latest to reg.example/team/api (the digest pushed)",
        f"dry-run: would move main to reg.example/team/web@{D2}",
    ]


def test_an_unreadable_manifest_stops_before_any_tag_moves() -> None:
    tags = FakeTags(unreadable="web")
    result = promote.run(PUBLISHED, gated("pass", "pass", "pass"), tags, dry_run=False)
    assert tags.moved == []
    assert not result.ok
    assert result.images[0].error == f"read reg.example/team/web@{D2}: gone"


def test_a_failed_tag_puts_back_every_tag_moved_before_it() -> None:
    tags = FakeTags(fail_on=("web", "latest"), held={("api", "latest"): OLD, ("api", "1.2"): OLD})
    result = promote.run(PUBLISHED, gated("pass", "pass", "pass"), tags, dry_run=False)
    assert tags.moved == [
        ("api", "latest", D1),
        ("api", "1.2", D1),
        ("api", "1.2", OLD),  # put back, last moved first
        ("api", "latest", OLD),
    ]
    assert tags.held == {("api", "latest"): OLD, ("api", "1.2"): OLD}
    assert result.images == (
        ImagePromoted("api"),
        ImagePromoted(
            "web",
            (),
            "tag reg.example/team/web:latest: denied; the tags moved before were put back",
        ),
        ImagePromoted("job"),
    )
    assert not result.ok


def test_ctrl_c_between_two_moves_puts_back_every_tag_moved_before_and_stops() -> None:
    tags = FakeTags(
        interrupt_on=("web", "latest"), held={("api", "latest"): OLD, ("api", "1.2"): OLD}
    )
    with pytest.raises(KeyboardInterrupt):
        promote.run(PUBLISHED, gated("pass", "pass", "pass"), tags, dry_run=False)
    assert tags.held == {("api", "latest"): OLD, ("api", "1.2"): OLD}
    assert tags.moved[-2:] == [("api", "1.2", OLD), ("api", "latest", OLD)]


def test_a_tag_that_did_not_exist_before_stays_and_the_error_says_so() -> None:
    tags = FakeTags(fail_on=("api", "1.2"), held={})
    result = promote.run(PUBLISHED, gated("pass", "pass", "pass"), tags, dry_run=False)
    assert tags.held == {("api", "latest"): D1}
    (api, web, job) = result.images
    assert api.tags == ("latest",)
    assert api.error is not None
    assert api.error.startswith("tag reg.example/team/api:1.2: denied; still on the new digest")
    assert api.error.endswith("api: latest")
    assert (web.error, job.error) == (None, None)


def test_a_tag_that_cannot_be_put_back_is_named() -> None:
    tags = FakeTags(fail_on=("web", "latest"), stuck=("api", "1.2"), held={("api", "1.2"): OLD})
    result = promote.run(PUBLISHED, gated("pass", "pass", "pass"), tags, dry_run=False)
    assert tags.held[("api", "1.2")] == D1
    assert result.images[0].tags == ("latest", "1.2")  # latest did not exist before
    assert result.images[1].error is not None and "api: latest, 1.2" in result.images[1].error


def test_an_unpublished_image_holds_every_tag() -> None:
    published = Published((image("api", D1, ("latest",)), image("web", None, ("latest",))))
    tags = FakeTags()
    result = promote.run(published, gated("pass", "pass"), tags, dry_run=False)
    assert tags.moved == []
    assert not result.ok


def test_pusher_tags_reads_by_digest_and_tags_by_manifest_without_pushing_layers() -> None:
    registry = FakeRegistry()
    engine = FakeEngine(registry)
    pushed = manifest_for("sha256:" + "c" * 64)
    registry.store("team/api", "sha-abc1234", pushed)
    pusher = Pusher(
        engine,
        registry,
        registry,
        FakeCredentials(),  # type: ignore[arg-type]
        retry.Policy(timeout=5),
        retry.Waits(sleep=lambda _s: None),
    )
    published = Published((image("api", pushed.digest, ("latest", "1")),))
    result = promote.run(published, gated("pass"), promote.PusherTags(pusher), dry_run=False)
    assert result.ok
    assert registry.tags[("team/api", "latest")] == pushed
    assert registry.tags[("team/api", "1")] == pushed
    assert engine.pushes == []


def test_pusher_tags_names_an_image_the_registry_lost() -> None:
    registry = FakeRegistry()
    pusher = Pusher(
        FakeEngine(registry),
        registry,
        registry,
        FakeCredentials(),  # type: ignore[arg-type]
        retry.Policy(timeout=5),
        retry.Waits(sleep=lambda _s: None),
    )
    with pytest.raises(promote.PromoteError, match="no longer holds"):
        promote.PusherTags(pusher).manifest(image("api", D1, ("latest",)))
