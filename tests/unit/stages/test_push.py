"""The push stage against fakes of its ports: retries, immutability, digests, reuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import retry
from pipeline.errors import PushError
from pipeline.plan import ImagePlan
from pipeline.retry import Kind, RegistryFailure
from pipeline.stages.push import Pusher
from pipeline.tags import Tag, TagSet
from tests.unit.fakes import FakeCredentials, FakeEngine, FakeRegistry, manifest_for

IMAGE = "reg.example/team/app"
PATH = "team/app"


def plan_image(*tags: tuple[str, bool]) -> ImagePlan:
    tagset = TagSet(tuple(Tag(n, m, "x") for n, m in tags), None, None)
    return ImagePlan(
        name="app",
        repository="team/app",
        image=IMAGE,
        context_dir=Path("."),
        dockerfile=Path("Dockerfile"),
        target=None,
        build_args={},
        secrets=(),
        platforms=(),
        labels={},
        tags=tagset,
        depends_on=(),
    )


def make(
    registry: FakeRegistry, engine: FakeEngine | None = None
) -> tuple[Pusher, FakeEngine, list[float]]:
    engine = engine or FakeEngine(registry)
    sleeps: list[float] = []
    clock = [0.0]

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    waits = retry.Waits(sleep=sleep, clock=lambda: clock[0], jitter=lambda high: high)
    pusher = Pusher(engine, registry, registry, FakeCredentials(), retry.Policy(timeout=60), waits)
    return pusher, engine, sleeps


IMG = plan_image(("sha-abc1234", False), ("1.2.3", False), ("latest", True))


def test_first_immutable_tag_is_pushed_the_others_tagged_by_manifest() -> None:
    registry = FakeRegistry()
    pusher, engine, _ = make(registry)
    engine.local[f"{IMAGE}:sha-abc1234"] = "sha256:cfg1"
    published = pusher.publish(IMG, PATH)
    assert engine.pushes == [f"{IMAGE}:sha-abc1234"]
    assert published.tags == ("sha-abc1234", "1.2.3")
    assert registry.tags[(PATH, "1.2.3")].digest == published.digest
    assert (PATH, "latest") not in registry.tags  # mutable: promoted after the gate


def test_transient_push_failures_retry_until_the_push_lands() -> None:
    registry = FakeRegistry()
    pusher, engine, sleeps = make(registry)
    engine.local[f"{IMAGE}:sha-abc1234"] = "sha256:cfg1"
    engine.failures = [
        RegistryFailure("received unexpected HTTP status: 503 Service Unavailable"),
        RegistryFailure("toomanyrequests: slow down"),
    ]
    published = pusher.publish(IMG, PATH)
    assert len(engine.pushes) == 3
    assert sleeps == [1.0, 2.0]
    assert registry.tags[(PATH, "sha-abc1234")].digest == published.digest


def test_permanent_failure_fails_at_once() -> None:
    registry = FakeRegistry()
    pusher, engine, sleeps = make(registry)
    engine.failures = [
        RegistryFailure("name unknown: The repository with name 'team/app' does not exist")
    ]
    with pytest.raises(PushError, match="does not exist"):
        pusher.publish(IMG, PATH)
    assert len(engine.pushes) == 1
    assert sleeps == []


def test_missing_local_image_fails_at_once() -> None:
    pusher, _, sleeps = make(FakeRegistry())
    with pytest.raises(PushError, match="does not exist locally"):
        pusher.publish(IMG, PATH)
    assert sleeps == []


def test_expired_credentials_are_refreshed_once() -> None:
    registry = FakeRegistry()
    pusher, engine, _ = make(registry)
    engine.local[f"{IMAGE}:sha-abc1234"] = "sha256:cfg1"
    engine.failures = [RegistryFailure("denied: Your authorization token has expired.")]
    pusher.publish(IMG, PATH)
    assert pusher.credentials.refreshes == 1  # type: ignore[attr-defined]
    assert [c.password for c in engine.auth_seen if c] == ["pw-1", "pw-2"]


def test_immutable_repo_holding_the_same_image_is_success() -> None:
    registry = FakeRegistry(immutable=True)
    pusher, engine, _ = make(registry)
    engine.local[f"{IMAGE}:sha-abc1234"] = "sha256:cfg1"
    earlier = manifest_for("sha256:cfg1")
    registry.store(PATH, "sha-abc1234", earlier)
    published = pusher.publish(IMG, PATH)
    assert published.digest == earlier.digest


def test_immutable_repo_holding_another_image_is_a_clear_error() -> None:
    registry = FakeRegistry(immutable=True)
    pusher, engine, _ = make(registry)
    engine.local[f"{IMAGE}:sha-abc1234"] = "sha256:cfg-new"
    registry.store(PATH, "sha-abc1234", manifest_for("sha256:cfg-old"))
    with pytest.raises(PushError, match=r"immutable.*different image"):
        pusher.publish(IMG, PATH)


def test_digest_mismatch_after_push_is_an_error() -> None:
    class Liar(FakeEngine):
        def push(self, repository, tag, credentials, on_line):  # type: ignore[no-untyped-def]
            super().push(repository, tag, credentials, on_line)
            return "sha256:" + "0" * 64

    registry = FakeRegistry()
    engine = Liar(registry)
    engine.local[f"{IMAGE}:sha-abc1234"] = "sha256:cfg1"
    pusher, _, _ = make(registry, engine)
    with pytest.raises(PushError, match="registry holds"):
        pusher.publish(IMG, PATH)


def test_complete_adds_only_missing_tags() -> None:
    registry = FakeRegistry(immutable=True)
    pusher, engine, _ = make(registry)
    existing = manifest_for("sha256:cfg1")
    registry.store(PATH, "sha-abc1234", existing)
    published = pusher.complete(IMG, PATH, existing, {"sha-abc1234"})
    assert engine.pushes == []
    assert registry.tags[(PATH, "1.2.3")].digest == existing.digest
    assert published.digest == existing.digest


def test_retag_conflict_on_immutable_repo_names_both_digests() -> None:
    registry = FakeRegistry(immutable=True)
    pusher, _, _ = make(registry)
    ours = manifest_for("sha256:cfg1")
    theirs = manifest_for("sha256:cfg2")
    registry.store(PATH, "1.2.3", theirs)
    with pytest.raises(PushError, match=theirs.digest):
        pusher.complete(IMG, PATH, ours, {"sha-abc1234"})


def test_dry_run_pushes_nothing() -> None:
    registry = FakeRegistry()
    pusher, engine, _ = make(registry)
    pusher.dry_run = True
    pusher.publish(IMG, PATH)
    assert engine.pushes == []
    assert registry.tags == {}


def test_kind_of_unknown_error_is_fatal() -> None:
    assert RegistryFailure("weird").kind is Kind.FATAL


def test_an_unknown_push_failure_fails_at_once() -> None:
    registry = FakeRegistry()
    pusher, engine, sleeps = make(registry)
    engine.local[f"{IMAGE}:sha-abc1234"] = "sha256:cfg1"
    engine.failures = [RegistryFailure("x509: certificate signed by unknown authority")]
    with pytest.raises(PushError, match="x509"):
        pusher.publish(IMG, PATH)
    assert len(engine.pushes) == 1
    assert sleeps == []


def test_a_push_that_keeps_failing_gives_up_at_the_time_limit() -> None:
    registry = FakeRegistry()
    pusher, engine, sleeps = make(registry)
    engine.local[f"{IMAGE}:sha-abc1234"] = "sha256:cfg1"
    engine.failures = [RegistryFailure("connection reset by peer") for _ in range(50)]
    with pytest.raises(PushError, match=r"gave up after \d+ attempts in \d+ s"):
        pusher.publish(IMG, PATH)
    assert sum(sleeps) <= 60


def test_signing_in_is_retried_like_any_registry_call() -> None:
    class Flaky(FakeCredentials):
        def __init__(self) -> None:
            super().__init__()
            self.calls = 0

        def get(self):  # type: ignore[no-untyped-def]
            self.calls += 1
            if self.calls == 1:
                raise RegistryFailure("GetAuthorizationToken: ThrottlingException", Kind.TRANSIENT)
            return super().get()

    registry = FakeRegistry()
    pusher, _, sleeps = make(registry)
    pusher.credentials = Flaky()
    pusher.sign_in()
    assert sleeps == [1.0]
