"""Classification of registry failures, and the retry loop bounded by time (clock injected)."""

from __future__ import annotations

import threading
import time as real_time

import pytest

from pipeline import retry
from pipeline.errors import Interrupted, PipelineError, PushError, RegistryError
from pipeline.poll import Deadline
from pipeline.retry import Kind, RegistryFailure

T, R, E, IM, F = Kind.TRANSIENT, Kind.REAUTH, Kind.EXPIRED, Kind.IMMUTABLE, Kind.FATAL

CLASSIFICATION = [
    # transient signatures: broken connections, timeouts, 5xx and 429 as statuses
    ("received unexpected HTTP status: 503 Service Unavailable", T),
    ("received unexpected HTTP status: 502 Bad Gateway", T),
    ("500 Internal Server Error", T),
    ("unknown: HTTP 504 while uploading", T),
    ("status code 500", T),
    ("read tcp 127.0.0.1:40000->127.0.0.1:5000: read: connection reset by peer", T),
    ('Get "http://10.0.0.1:5000/v2/": dial tcp 10.0.0.1:5000: connect: connection refused', T),
    ('Put "http://127.0.0.1:5000/v2/a/b/manifests/x": EOF', T),
    ("write tcp 127.0.0.1:1->127.0.0.1:2: write: broken pipe", T),
    ('Patch "http://h/v2/a/blobs/uploads/x": write tcp 1->2: use of closed network connection', T),
    ("net/http: TLS handshake timeout", T),
    ("Get https://r.example/v2/: net/http: request canceled (Client.Timeout exceeded)", T),
    ("context deadline exceeded", T),
    ("ReadTimeout: HTTPConnectionPool(host='h', port=80): Read timed out.", T),
    ("ConnectionError: ('Connection aborted.', RemoteDisconnected('Remote end closed'))", T),
    ("toomanyrequests: Rate exceeded", T),
    ("TOOMANYREQUESTS: too many requests (injected fault)", T),
    ("received unexpected HTTP status: 429 Too Many Requests", T),
    ("unavailable: service unavailable (injected fault)", T),
    ("blob upload unknown: blob upload unknown to registry", T),
    # numbers that are not statuses: unknown, so final
    ("layer 503a2d0a1135 rejected", F),
    ("pushed 512 layers to 127.0.0.1:5000, then the manifest was refused", F),
    ("exceeded 429 repositories quota", F),
    ("something nobody has seen before", F),
    # credentials
    ("denied: Your authorization token has expired. Reauthenticate and try again.", E),
    ("no basic auth credentials", R),
    ("unauthorized: authentication required", R),
    ("HTTP 401 Unauthorized", R),
    # final at once
    ("name unknown: The repository with name 'app' does not exist in the registry", F),
    ("An image does not exist locally with the tag: 127.0.0.1:5000/app", F),
    ("denied: User: arn:aws:iam::123:user/ci is not authorized to perform: ecr:Put", F),
    ("denied: requested access to the resource is denied", F),
    ("HTTP 403 Forbidden", F),
    ("x509: certificate signed by unknown authority", F),
    ("tls: failed to verify certificate: x509: certificate has expired", F),
    ("SSLError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", F),
    ('Get "https://reg.invalid/v2/": dial tcp: lookup reg.invalid: no such host', F),
    ("dial tcp: lookup reg.example on 10.0.0.2:53: read udp: i/o timeout", F),
    ("ConnectionError: NameResolutionError: Failed to resolve 'reg.invalid'", F),
    ("[Errno -3] Temporary failure in name resolution", F),
    ("invalid reference format: repository name must be lowercase", F),
    ("http: server gave HTTP response to HTTPS client", F),
    # the tag is taken in an IMMUTABLE repository: the caller decides
    (
        "tag invalid: The image tag 'v1' already exists in the 'app' repository and cannot"
        " be overwritten because the repository is immutable.",
        IM,
    ),
]


@pytest.mark.parametrize(("message", "kind"), CLASSIFICATION)
def test_classify(message: str, kind: Kind) -> None:
    assert retry.classify(message) is kind


@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, R), (403, F), (404, F), (400, F), (408, T), (429, T), (500, T), (503, T), (599, T)],
)
def test_http_status_classes(status: int, kind: Kind) -> None:
    assert retry.status_kind(status) is kind


def test_a_registry_failure_is_a_pipeline_error_with_exit_code_1() -> None:
    err = RegistryFailure("whatever")
    assert isinstance(err, RegistryError) and isinstance(err, PipelineError)
    assert err.exit_code == 1


class Script:
    """An operation that fails with the given errors, then returns 'ok'; each try takes
    `took` seconds of the fake clock, or less when its deadline comes first (as the
    adapters do: they bound their I/O by it)."""

    def __init__(self, *errors: RegistryFailure, time: FakeTime | None = None, took: float = 0):
        self.errors = list(errors)
        self.calls = 0
        self.time = time
        self.took = took
        self.deadlines: list[float] = []

    def __call__(self) -> str:
        self.calls += 1
        limit = retry.current_deadline()
        self.deadlines.append(limit.left() if limit else -1)
        if self.time is not None:
            self.time.now += min(self.took, limit.left()) if limit else self.took
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.cancelled = False

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now

    def waits(self, jitter: float | None = None) -> retry.Waits:
        """`jitter`: the share of the backoff taken each time (None: all of it)."""
        share = 1.0 if jitter is None else jitter
        return retry.Waits(
            sleep=self.sleep,
            clock=self.clock,
            jitter=lambda high: high * share,
            cancelled=lambda: self.cancelled,
        )


def _call(op: Script, time: FakeTime, **kw: object) -> str:
    policy = kw.pop("policy", retry.Policy(timeout=600))
    waits = kw.pop("waits", time.waits())
    return retry.call(op, what="push x", policy=policy, waits=waits, **kw)  # type: ignore[arg-type]


def test_transient_failures_are_retried_with_exponential_waits() -> None:
    time = FakeTime()
    op = Script(*[RegistryFailure("503 Service Unavailable") for _ in range(7)])
    assert _call(op, time) == "ok"
    assert op.calls == 8
    assert time.sleeps == [1, 2, 4, 8, 16, 30, 30]  # doubling, capped at 30 s


def test_waits_are_full_jitter_of_the_backoff() -> None:
    time = FakeTime()
    highs: list[float] = []

    def jitter(high: float) -> float:
        highs.append(high)
        return high / 4

    waits = retry.Waits(sleep=time.sleep, clock=time.clock, jitter=jitter)
    op = Script(*[RegistryFailure("connection reset by peer") for _ in range(3)])
    assert _call(op, time, waits=waits) == "ok"
    assert highs == [1, 2, 4]
    assert time.sleeps == [0.25, 0.5, 1.0]


def test_the_default_jitter_stays_within_zero_and_the_backoff() -> None:
    draws = [retry.full_jitter(8.0) for _ in range(200)]
    assert all(0.0 <= d <= 8.0 for d in draws)
    assert len(set(draws)) > 100  # random, not a constant


def test_the_budget_is_time_not_a_count_of_tries() -> None:
    """A registry failing fast for 9 minutes is still retried, under the 10-minute limit."""
    time = FakeTime()
    op = Script(*[RegistryFailure("connection reset by peer") for _ in range(25)])
    assert _call(op, time, waits=time.waits(jitter=0.5)) == "ok"
    assert op.calls == 26
    assert time.now < 600


def test_giving_up_says_how_many_tries_in_how_long() -> None:
    time = FakeTime()
    op = Script(*[RegistryFailure("connection reset by peer") for _ in range(100)], time=time)
    with pytest.raises(PushError, match=r"gave up after \d+ attempts in \d+ s") as err:
        _call(op, time)
    assert "time limit 600 s" in str(err.value)
    assert "connection reset by peer" in str(err.value)
    assert time.now <= 600


def test_the_time_limit_is_a_hard_bound_tries_included() -> None:
    """Each try takes 50 s of the clock; the loop never runs past the limit."""
    time = FakeTime()
    failures = [RegistryFailure("503 Service Unavailable") for _ in range(100)]
    op = Script(*failures, time=time, took=50)
    with pytest.raises(PushError):
        _call(op, time, policy=retry.Policy(timeout=300))
    assert time.now <= 300
    assert op.deadlines[-1] <= 50  # the last try was cut short by the limit


def test_each_try_runs_under_the_time_that_is_left() -> None:
    time = FakeTime()
    op = Script(*[RegistryFailure("503 Service Unavailable") for _ in range(3)], time=time, took=10)
    _call(op, time, policy=retry.Policy(timeout=100))
    # 100, then 100 - 10 - 1, then - 10 - 2, then - 10 - 4
    assert op.deadlines == [100, 89, 77, 63]


def test_a_per_try_limit_caps_each_try() -> None:
    time = FakeTime()
    op = Script(RegistryFailure("503 Service Unavailable"), time=time)
    _call(op, time, policy=retry.Policy(timeout=100, try_timeout=20))
    assert op.deadlines == [20, 20]


def test_no_try_starts_with_less_than_a_second_left() -> None:
    time = FakeTime()
    op = Script(*[RegistryFailure("503 Service Unavailable") for _ in range(10)], time=time, took=3)
    with pytest.raises(PushError):
        _call(op, time, policy=retry.Policy(timeout=10))
    assert all(d >= 1 for d in op.deadlines)


def test_an_attempt_count_from_the_user_caps_tries() -> None:
    time = FakeTime()
    op = Script(*[RegistryFailure("503 Service Unavailable") for _ in range(10)])
    with pytest.raises(PushError, match=r"after 3 attempts \(PIPELINE_PUSH_ATTEMPTS=3\)"):
        _call(op, time, policy=retry.Policy(max_tries=3))
    assert op.calls == 3


def test_fatal_failure_raises_at_once_without_sleeping() -> None:
    time = FakeTime()
    op = Script(RegistryFailure("name unknown: no such repository"))
    with pytest.raises(RegistryFailure) as err:
        _call(op, time)
    assert err.value.kind is Kind.FATAL
    assert op.calls == 1
    assert time.sleeps == []


@pytest.mark.parametrize(
    "message",
    [
        "x509: certificate signed by unknown authority",
        "dial tcp: lookup reg.invalid: no such host",
        "invalid reference format",
        "an error nobody has seen before",
    ],
)
def test_unfixable_and_unknown_failures_are_not_retried(message: str) -> None:
    time = FakeTime()
    op = Script(RegistryFailure(message))
    with pytest.raises(RegistryFailure):
        _call(op, time)
    assert op.calls == 1


def test_other_errors_pass_through_untouched() -> None:
    def op() -> str:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        retry.call(op, what="x", policy=retry.Policy(), waits=FakeTime().waits())


def test_immutable_refusal_is_handed_back_to_the_caller() -> None:
    op = Script(RegistryFailure("tag invalid: ... immutable"))
    with pytest.raises(RegistryFailure) as err:
        _call(op, FakeTime())
    assert err.value.kind is Kind.IMMUTABLE


def test_rejected_credentials_reauthenticate_once_without_waiting() -> None:
    refreshed: list[int] = []
    time = FakeTime()
    op = Script(RegistryFailure("unauthorized: authentication required"))
    assert _call(op, time, reauth=lambda: refreshed.append(1)) == "ok"
    assert refreshed == [1]
    assert time.sleeps == [0.0]


def test_an_expired_token_is_fetched_again_once_then_final() -> None:
    refreshed: list[int] = []
    op = Script(
        RegistryFailure("denied: Your authorization token has expired."),
        RegistryFailure("denied: Your authorization token has expired."),
    )
    with pytest.raises(RegistryFailure) as err:
        _call(op, FakeTime(), reauth=lambda: refreshed.append(1), verify=lambda: True)
    assert err.value.kind is Kind.EXPIRED
    assert refreshed == [1]
    assert op.calls == 2


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
    assert time.sleeps == [0.0, 1.0, 2.0]  # right after the re-auth; then the usual backoff


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


def test_tries_that_made_progress_do_not_grow_the_backoff() -> None:
    """A push whose layers make it one by one, failing each time, is not slowed down."""
    time = FakeTime()
    progress = [RegistryFailure("connection reset", progressed=True) for _ in range(5)]
    op = Script(*progress, RegistryFailure("503 Service Unavailable"))
    assert _call(op, time) == "ok"
    assert time.sleeps == [1, 1, 1, 1, 1, 1]


def test_nothing_is_retried_after_ctrl_c() -> None:
    time = FakeTime()

    def op() -> str:
        time.cancelled = True  # Ctrl-C arrives while this try runs
        raise RegistryFailure("connection reset by peer")

    with pytest.raises(Interrupted, match="push x: interrupted"):
        _call(op, time)  # type: ignore[arg-type]
    assert time.sleeps == []


def test_nothing_is_tried_once_cancelled() -> None:
    time = FakeTime()
    time.cancelled = True
    op = Script()
    with pytest.raises(Interrupted):
        _call(op, time)
    assert op.calls == 0


def test_pause_ends_at_once_and_cancels_retries() -> None:
    pause = retry.Pause()
    waits = pause.waits()
    assert not waits.cancelled()
    threading.Timer(0.05, pause.stop).start()
    started = real_time.monotonic()
    waits.sleep(30)
    assert real_time.monotonic() - started < 5
    assert waits.cancelled()


def test_each_retry_is_logged_with_its_cause() -> None:
    messages: list[str] = []
    op = Script(RegistryFailure("received unexpected HTTP status: 503 Service Unavailable"))
    _call(op, FakeTime(), log=messages.append)
    assert len(messages) == 1
    assert "attempt 1 failed" in messages[0]
    assert "503" in messages[0]
    assert "retrying in 1.0s" in messages[0]


def test_clip_bounds_timeouts_by_the_current_deadline() -> None:
    time = FakeTime()
    assert retry.clip(60) == 60
    with retry.deadline(Deadline(time.clock, 12.5)):
        assert retry.clip(60) == 12.5
        assert retry.clip(5) == 5
        with retry.deadline(Deadline(time.clock, 100)):  # an inner limit never extends
            assert retry.clip(60) == 12.5
        time.now = 20
        assert retry.clip(60) == 0.05  # past it: the smallest timeout, not "none"
    assert retry.current_deadline() is None


def test_bounded_gives_up_waiting_at_the_deadline() -> None:
    release = threading.Event()
    with (
        retry.deadline(Deadline(real_time.monotonic, 0.1)),
        pytest.raises(RegistryFailure, match="no answer within the time left") as err,
    ):
        retry.bounded(lambda: release.wait(10), "ECR PutImage app:v1")
    release.set()
    assert err.value.kind is Kind.TRANSIENT


def test_bounded_hands_back_the_value_or_the_error() -> None:
    with retry.deadline(Deadline(real_time.monotonic, 10)):
        assert retry.bounded(lambda: 42, "x") == 42
        with pytest.raises(KeyError):
            retry.bounded(lambda: {}["missing"], "x")
    assert retry.bounded(lambda: 7, "no deadline: called in place") == 7
