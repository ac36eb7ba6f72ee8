"""Amazon ECR (private and public) through boto3: tokens, repositories, PutImage.

Every vendor error becomes one of ours naming the operation and the
resource; no token or password is ever part of a message.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pipeline import lifecycle, log, retry
from pipeline.adapters import aws_errors
from pipeline.adapters.ports import Credentials, Manifest, TagMutability
from pipeline.errors import AuthError, UsageError
from pipeline.retry import Kind, RegistryFailure

Clock = Callable[[], dt.datetime]
T = TypeVar("T")
#: Runs a registry operation under the retry policy (`what`, operation).
Retrying = Callable[[str, Callable[[], Any]], Any]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


#: boto3 makes a single attempt: retries are ours (retry.py), bounded by time, and
#: botocore's own would multiply them (5 inside 20 was up to 100 calls).
BOTO_CONFIG = {
    "retries": {"mode": "standard", "max_attempts": 1, "total_max_attempts": 1},
    "connect_timeout": 10,
    "read_timeout": 60,
}


def client(service: str, region: str) -> Any:
    """A new boto3 client; AWS_ENDPOINT_URL (the sandbox) is honoured by boto3 itself.

    A run shares them through `Clients`, made by the composition root."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    try:
        return boto3.client(service, region_name=region, config=Config(**BOTO_CONFIG))
    except BotoCoreError as err:  # a broken AWS profile or config file, say
        raise AuthError(f"cannot set up the AWS {service} client in {region}: {err}") from None


#: (service, region) -> a boto3 client
Connect = Callable[[str, str], Any]


class Clients:
    """One boto3 client per service and region for one run, made on first use.

    They are thread-safe and slow to make (a few tenths of a second each), so
    a run shares them; a new run (or a test) gets new ones.
    """

    def __init__(self, make: Connect | None = None) -> None:
        self._make = make
        self._made: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str, region: str) -> Any:
        with self._lock:
            key = (service, region)
            if key not in self._made:
                self._made[key] = (self._make or client)(service, region)
            return self._made[key]


@dataclass(frozen=True)
class RepositoryRules:
    """How new repositories are created (from the config's registry.repository)."""

    scan_on_push: bool = True
    tag_mutability: str = "MUTABLE"
    #: IMMUTABLE only: tags (with * wildcards) that may still move
    mutable_tags: tuple[str, ...] = ()
    encryption: str = "AES256"
    kms_key: str | None = None


def _connect(connect: Connect | None, service: str, region: str) -> Any:
    return (connect or client)(service, region)


def _code(err: Exception) -> str:
    return aws_errors.error_code(err)


_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",
        "InternalServerException",
        "InternalFailure",
        "ServerException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)


def failure_kind(err: Exception) -> Kind:
    """botocore's errors in our classes: throttling, 5xx and broken connections pass."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
        SSLError,
    )

    if isinstance(err, ClientError):
        status = (err.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0
        if _code(err) in _TRANSIENT_CODES or status == 429 or 500 <= int(status) <= 599:
            return Kind.TRANSIENT
        if _code(err) == "ExpiredTokenException":
            return Kind.FATAL  # the AWS session's credentials: nothing we can fetch again
        return Kind.FATAL
    if isinstance(err, SSLError):
        return Kind.FATAL
    if isinstance(
        err, (EndpointConnectionError, ConnectionClosedError, ConnectTimeoutError, ReadTimeoutError)
    ):
        return Kind.TRANSIENT
    return retry.classify(str(err))


class AwsFailure(RegistryFailure):
    """A failed AWS call, with AWS's error code."""

    def __init__(self, message: str, kind: Kind, code: str) -> None:
        super().__init__(message, kind)
        self.code = code


def _aws(what: str, operation: Callable[[], T], service: str = "ecr") -> T:
    """One AWS call under the current try's deadline; its errors as AwsFailure."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return retry.bounded(operation, what)
    except ClientError as err:
        said = aws_errors.refusal(err, service) or _code(err)
        raise AwsFailure(f"{what}: {said}", failure_kind(err), _code(err)) from None
    except BotoCoreError as err:
        # botocore's messages name endpoints and files, never credentials
        raise AwsFailure(f"{what}: {err}", failure_kind(err), type(err).__name__) from None


def decode_token(token: str) -> tuple[str, str]:
    """`base64("AWS:<password>")` -> ("AWS", password); split on the first colon only."""
    try:
        user, sep, password = base64.b64decode(token).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise AuthError("the registry token is not base64 of user:password") from None
    if not sep or not password:
        raise AuthError("the registry token has no user:password pair")
    return user, password


class TokenCredentials:
    """ECR credentials, fetched on first use and refreshed at half their life.

    A token is valid for 12 hours; a pipeline that runs longer (or one that
    waits on a long scan) gets a new one before the old one can expire, the
    way amazon-ecr-credential-helper treats cached tokens as stale at half-life.
    """

    def __init__(self, fetch: Callable[[], Credentials], clock: Clock = _utcnow) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._current: Credentials | None = None

    def _stale(self, creds: Credentials) -> bool:
        if creds.expires_at is None:
            return False
        issued = creds.issued_at or creds.expires_at - dt.timedelta(hours=12)
        half_life = issued + (creds.expires_at - issued) / 2
        return self._clock() >= min(half_life, creds.expires_at - dt.timedelta(minutes=15))

    def get(self) -> Credentials:
        with self._lock:
            if self._current is None or self._stale(self._current):
                self._current = self._fetch()
            return self._current

    def refresh(self) -> Credentials:
        with self._lock:
            self._current = self._fetch()
            return self._current


def _credentials_from(data: Any, what: str, host: str, clock: Clock) -> Credentials:
    if not isinstance(data, dict) or not isinstance(data.get("authorizationToken"), str):
        raise AuthError(f"{what} returned no authorization data")
    token = data["authorizationToken"]
    log.mask(token)
    user, password = decode_token(token)
    log.mask_credentials(user, password, host)
    expires = data.get("expiresAt")
    return Credentials(
        user, password, host, expires if isinstance(expires, dt.datetime) else None, clock()
    )


def _auth_failure(err: RegistryFailure, what: str) -> Exception:
    """Transient failures are retried by the caller; others mean no credentials at all."""
    if err.kind is Kind.TRANSIENT:
        return err
    if isinstance(err, AwsFailure) and err.code in aws_errors.REFUSED:
        return AuthError(str(err))  # the message already names the action and the fix
    return AuthError(f"{err}; check the AWS credentials and ecr:GetAuthorizationToken")


def private_token(
    region: str, host: str, clock: Clock = _utcnow, *, connect: Connect | None = None
) -> Callable[[], Credentials]:
    what = f"ECR GetAuthorizationToken in {region}"

    def fetch() -> Credentials:
        try:
            answer = _aws(what, lambda: _connect(connect, "ecr", region).get_authorization_token())
        except RegistryFailure as err:
            raise _auth_failure(err, what) from None
        data = answer.get("authorizationData")
        return _credentials_from(
            data[0] if isinstance(data, list) and data else None, what, host, clock
        )

    return fetch


def public_token(
    host: str, clock: Clock = _utcnow, *, connect: Connect | None = None
) -> Callable[[], Credentials]:
    what = "ECR Public GetAuthorizationToken"

    def fetch() -> Credentials:
        try:  # ECR Public's API exists only in us-east-1, whatever AWS_REGION says
            answer = _aws(
                what,
                lambda: _connect(connect, "ecr-public", "us-east-1").get_authorization_token(),
                "ecr-public",
            )
        except RegistryFailure as err:
            raise _auth_failure(err, what) from None
        return _credentials_from(answer.get("authorizationData"), what, host, clock)

    return fetch


class Repositories:
    """Checks and creates ECR repositories with the configured settings.

    Each call runs under the run's retry policy (`retrying`), since boto3
    itself makes a single attempt.
    """

    def __init__(
        self,
        region: str,
        account: str | None,
        rules: RepositoryRules,
        lifecycle_text: str | None,
        *,
        dry_run: bool = False,
        retrying: Retrying = lambda _what, operation: operation(),
        connect: Connect | None = None,
    ) -> None:
        self._ecr = _connect(connect, "ecr", region)
        self._account = account
        self._rules = rules
        self._lifecycle = lifecycle_text
        self.dry_run = dry_run
        self._retrying = retrying
        self._described: dict[str, dict[str, Any] | None] = {}

    def _ids(self) -> dict[str, str]:
        return {"registryId": self._account} if self._account else {}

    def _call(self, what: str, operation: Callable[[], T]) -> T:
        result: T = self._retrying(what, lambda: _aws(what, operation))
        return result

    def missing(self, names: list[str]) -> list[str]:
        return [name for name in names if self._describe(name) is None]

    def mutability(self, names: list[str]) -> dict[str, TagMutability]:
        """Read from the answers `missing` already had, so a run asks once per repository."""
        out: dict[str, TagMutability] = {}
        for name in names:
            found = self._described[name] if name in self._described else self._describe(name)
            if found is not None:
                out[name] = _tag_mutability(found)
        return out

    def _describe(self, name: str) -> dict[str, Any] | None:
        """One repository's description (None: it does not exist).

        One call each: a batch fails as a whole when one is missing."""
        try:
            answer = self._call(
                f"ECR DescribeRepositories {name}",
                lambda: self._ecr.describe_repositories(repositoryNames=[name], **self._ids()),
            )
        except AwsFailure as err:
            if err.code != "RepositoryNotFoundException":
                raise
            found = None
        else:
            repos = answer.get("repositories") or [{}]
            found = repos[0] if isinstance(repos[0], dict) else {}
        self._described[name] = found
        return found

    def create(self, name: str) -> None:
        s = self._rules
        args: dict[str, Any] = {
            "repositoryName": name,
            "imageScanningConfiguration": {"scanOnPush": s.scan_on_push},
            "imageTagMutability": s.tag_mutability,
            "encryptionConfiguration": {"encryptionType": s.encryption},
            **self._ids(),
        }
        if s.tag_mutability == "IMMUTABLE" and s.mutable_tags:
            args["imageTagMutability"] = "IMMUTABLE_WITH_EXCLUSION"
            args["imageTagMutabilityExclusionFilters"] = [
                {"filterType": "WILDCARD", "filter": f} for f in s.mutable_tags
            ]
        if s.encryption == "KMS" and s.kms_key:
            args["encryptionConfiguration"]["kmsKey"] = s.kms_key
        if self.dry_run:
            log.LOG.info(
                "dry-run: would create ECR repository %s (%s)", name, args["imageTagMutability"]
            )
            return
        try:
            self._call(f"ECR CreateRepository {name}", lambda: self._ecr.create_repository(**args))
        except AwsFailure as err:
            if err.code != "RepositoryAlreadyExistsException":  # created meanwhile: fine
                raise
        self._described.pop(name, None)  # it exists now, with settings read afresh if asked
        if self._lifecycle:
            self._call(
                f"ECR PutLifecyclePolicy {name}",
                lambda: self._ecr.put_lifecycle_policy(
                    repositoryName=name, lifecyclePolicyText=self._lifecycle, **self._ids()
                ),
            )
        log.LOG.info("created ECR repository %s (%s)", name, args["imageTagMutability"])


def _tag_mutability(repository: dict[str, Any]) -> TagMutability:
    """DescribeRepositories' answer; an answer without the field is ECR's default."""
    filters = repository.get("imageTagMutabilityExclusionFilters") or []
    return TagMutability(
        str(repository.get("imageTagMutability") or "MUTABLE"),
        tuple(str(f["filter"]) for f in filters if isinstance(f, dict) and f.get("filter")),
    )


class PutImageRetagger:
    """Adds a tag to an existing manifest with ECR PutImage (no layer moves)."""

    def __init__(self, region: str, account: str | None, *, connect: Connect | None = None) -> None:
        self._ecr = _connect(connect, "ecr", region)
        self._account = account

    def tag(self, repository: str, tag: str, manifest: Manifest) -> None:
        ids = {"registryId": self._account} if self._account else {}
        try:
            body = manifest.body.decode("utf-8")
        except UnicodeDecodeError:
            raise RegistryFailure(
                f"ECR PutImage {repository}:{tag}: the manifest is not UTF-8", Kind.FATAL
            ) from None
        try:
            _aws(
                f"ECR PutImage {repository}:{tag}",
                lambda: self._ecr.put_image(
                    repositoryName=repository,
                    imageManifest=body,
                    imageManifestMediaType=manifest.media_type,
                    imageTag=tag,
                    imageDigest=manifest.digest,
                    **ids,
                ),
            )
        except AwsFailure as err:
            if err.code == "ImageAlreadyExistsException":
                return  # this tag already names this very manifest
            if err.code == "ImageTagAlreadyExistsException":
                err.kind = Kind.IMMUTABLE
            raise


def lifecycle_text(policy: str | dict[str, Any] | None, root: Any) -> str | None:
    """The lifecycle policy as JSON text, from a file (relative to the config) or inline."""
    if policy is None:
        return None
    if isinstance(policy, dict):
        text = json.dumps(policy, indent=2)
    else:
        try:  # a regular file of bounded size, as checked when the config loaded
            text = lifecycle.read(root / policy)
        except (OSError, ValueError) as err:
            raise UsageError(f"cannot read the lifecycle policy file {policy}: {err}") from None
    return text.ljust(100)  # ECR's minimum length; JSON allows trailing blanks
