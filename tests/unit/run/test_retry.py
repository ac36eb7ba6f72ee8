"""Classification of registry failures and the retry loop, with time injected."""

from __future__ import annotations

import pytest

from pipeline import retry
from pipeline.errors import PushError
from pipeline.retry import Kind, RegistryFailure

CASES = [
    ("received unexpected HTTP status: 503 Service Unavailable", Kind.TRANSIENT),
    ("received unexpected HTTP status: 502 Bad Gateway", Kind.TRANSIENT),
    ("read tcp 127.0.0.1:40000->127.0.0.1:5000: read: connection reset by peer", Kind.TRANSIENT),
    ('Put "http://127.0.0.1:5000/v2/a/b/manifests/x": EOF', Kind.TRANSIENT),
    ("net/http: TLS handshake timeout", Kind.TRANSIENT),
    ("toomanyrequests: Rate exceeded", Kind.TRANSIENT),
    ("received unexpected HTTP status: 429 Too Many Requests", Kind.TRANSIENT),
    ("denied: Your authorization token has expired. Reauthenticate and try again.", Kind.REAUTH),
    ("no basic auth credentials", Kind.REAUTH),
    ("unauthorized: authentication required", Kind.REAUTH),
    (
        "name unknown: The repository with name 'app' does not exist in the registry"
        " with id '123456789012'",
        Kind.FATAL,
    ),
    ("An image does not exist locally with the tag: 127.0.0.1:5000/app", Kind.FATAL),
    (
        "denied: User: arn:aws:iam::123456789012:user/ci is not authorized to perform:"
        " ecr:InitiateLayerUpload",
        Kind.FATAL,
    ),
    (
        "tag invalid: The image tag 'v1' already exists in the 'app' repository and cannot"
        " be overwritten because the repository is immutable.",
        Kind.IMMUTABLE,
    ),
    ("something nobody has seen before", Kind.TRANSIENT),
]


@pytest.mark.parametrize(("message", "kind"), CASES)
def test_classify(message: str, kind: Kind) -> None:
    assert retry.classify(message) is kind


class Script:
    """An operation that fails with the given errors, then returns 'ok'."""

    def __init__(self, *errors: RegistryFailure) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def _call(op: Script, time: FakeTime, **kw: object) -> str:
    policy = kw.pop("policy", retry.Policy(attempts=5, total_seconds=100))
    return retry.call(op, what="push x", policy=policy, sleep=time.sleep, clock=time.clock, **kw)  # type: ignore[arg-type]


def test_transient_failures_are_retried_with_growing_jittered_waits() -> None:
    time = FakeTime()
    op = Script(RegistryFailure("503 Service Unavailable"), RegistryFailure("connection reset"))
    assert _call(op, time) == "ok"
    assert op.calls == 3
    assert len(time.sleeps) == 2
    assert all(0 <= s <= 8 for s in time.sleeps)


def test_fatal_failure_raises_at_once_without_sleeping() -> None:
    time = FakeTime()
    op = Script(RegistryFailure("name unknown: no such repository"))
    with pytest.raises(RegistryFailure) as err:
        _call(op, time)
    assert err.value.kind is Kind.FATAL
    assert op.calls == 1
    assert time.sleeps == []


def test_immutable_refusal_is_handed_back_to_the_caller() -> None:
    op = Script(RegistryFailure("tag invalid: ... immutable"))
    with pytest.raises(RegistryFailure) as err:
        _call(op, FakeTime())
    assert err.value.kind is Kind.IMMUTABLE


def test_rejected_credentials_reauthenticate_once() -> None:
    refreshed: list[int] = []
    op = Script(RegistryFailure("authorization token has expired"))
    assert _call(op, FakeTime(), reauth=lambda: refreshed.append(1)) == "ok"
    assert refreshed == [1]


def test_second_rejection_after_reauth_is_final() -> None:
    refreshed: list[int] = []
    op = Script(RegistryFailure("unauthorized"), RegistryFailure("unauthorized"))
    with pytest.raises(RegistryFailure) as err:
        _call(op, FakeTime(), reauth=lambda: refreshed.append(1))
    assert err.value.kind is Kind.REAUTH
    assert refreshed == [1]


def test_the_retry_after_reauth_does_not_wait() -> None:
    time = FakeTime()
    op = Script(RegistryFailure("authorization token has expired"))
    assert _call(op, time, reauth=lambda: None) == "ok"
    assert time.sleeps == [0.0]


def test_second_rejection_is_retried_while_the_registry_accepts_our_credentials() -> None:
    """dockerd sends no credentials when its ping met a 503: not a credential problem."""
    checks: list[int] = []

    def verify() -> bool:
        checks.append(1)
        return True

    time = FakeTime()
    op = Script(*[RegistryFailure("unauthorized: authentication required") for _ in range(3)])
    assert _call(op, time, reauth=lambda: None, verify=verify) == "ok"
    assert op.calls == 4
    assert checks == [1, 1]
    assert time.sleeps[0] == 0.0  # right after the re-auth; then the usual backoff
    assert all(0 <= s <= 2.0 for s in time.sleeps[1:])


def test_second_rejection_is_final_when_the_registry_refuses_our_credentials() -> None:
    time = FakeTime()
    op = Script(RegistryFailure("unauthorized"), RegistryFailure("unauthorized"))
    with pytest.raises(RegistryFailure) as err:
        _call(op, time, reauth=lambda: None, verify=lambda: False)
    assert err.value.kind is Kind.REAUTH
    assert op.calls == 2
    assert time.sleeps == [0.0]


def test_a_credential_check_that_fails_transiently_proves_nothing() -> None:
    def verify() -> bool:
        raise RegistryFailure("503 Service Unavailable")

    op = Script(RegistryFailure("unauthorized"), RegistryFailure("unauthorized"))
    assert _call(op, FakeTime(), reauth=lambda: None, verify=verify) == "ok"


def test_attempts_are_bounded() -> None:
    op = Script(*[RegistryFailure("503") for _ in range(10)])
    with pytest.raises(PushError, match="gave up after 5 attempts"):
        _call(op, FakeTime())
    assert op.calls == 5


def test_attempts_that_made_progress_do_not_use_up_the_budget() -> None:
    """A push whose layers make it one by one, failing each time, still gets there."""
    time = FakeTime()
    progress = [RegistryFailure("connection reset", progressed=True) for _ in range(5)]
    op = Script(*progress, RegistryFailure("503"), RegistryFailure("503"))
    policy = retry.Policy(attempts=3, total_seconds=100)
    assert _call(op, time, policy=policy) == "ok"
    assert op.calls == 8
    assert all(s <= 0.5 for s in time.sleeps[:5])  # no growing backoff while progressing


def test_progress_is_capped_too() -> None:
    op = Script(*[RegistryFailure("connection reset", progressed=True) for _ in range(20)])
    with pytest.raises(PushError, match="gave up after 8 attempts"):
        _call(op, FakeTime(), policy=retry.Policy(attempts=2, total_seconds=100))
    assert op.calls == 8


def test_total_time_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # full jitter: take the longest wait each time, or four short draws could fit in 1 s
    monkeypatch.setattr(retry.random, "uniform", lambda _low, high: high)
    time = FakeTime()
    op = Script(*[RegistryFailure("503") for _ in range(10)])
    policy = retry.Policy(attempts=50, total_seconds=1.0, first_wait=2.0, max_wait=2.0)
    with pytest.raises(PushError):
        _call(op, time, policy=policy)
    assert op.calls < 5


def test_each_retry_is_logged_with_its_cause() -> None:
    messages: list[str] = []
    op = Script(RegistryFailure("received unexpected HTTP status: 503 Service Unavailable"))
    _call(op, FakeTime(), log=messages.append)
    assert len(messages) == 1
    assert "attempt 1 failed" in messages[0]
    assert "503" in messages[0]
