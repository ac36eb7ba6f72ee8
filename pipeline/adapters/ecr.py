"""Amazon ECR (private and public) through boto3: tokens, repositories, PutImage.

Every vendor error becomes one of ours naming the operation and the
resource; no token or password is ever part of a message.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import threading
from collections.abc import Callable
from typing import Any

from pipeline import lifecycle, log
from pipeline.adapters.ports import Credentials, Manifest
from pipeline.config.schema import RepositorySettings
from pipeline.errors import AuthError, RegistryError, UsageError
from pipeline.retry import Kind, RegistryFailure

Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@functools.cache
def client(service: str, region: str) -> Any:
    """One boto3 client per service and region for the whole run (they are thread-safe
    and slow to make); AWS_ENDPOINT_URL (the sandbox) is honoured by boto3 itself."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service, region_name=region, config=Config(retries={"mode": "standard", "max_attempts": 5})
    )


def _code(err: Exception) -> str:
    return str(getattr(err, "response", {}).get("Error", {}).get("Code", type(err).__name__))


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


def private_token(region: str, host: str, clock: Clock = _utcnow) -> Callable[[], Credentials]:
    def fetch() -> Credentials:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            data = client("ecr", region).get_authorization_token()["authorizationData"]
        except (ClientError, BotoCoreError) as err:
            raise AuthError(f"ECR GetAuthorizationToken in {region} failed: {_code(err)}") from None
        if not isinstance(data, list) or not data or not data[0].get("authorizationToken"):
            raise AuthError("ECR GetAuthorizationToken returned no authorization data")
        token = data[0]["authorizationToken"]
        log.mask(token)
        user, password = decode_token(token)
        log.mask(password)
        return Credentials(user, password, host, data[0].get("expiresAt"), clock())

    return fetch


def public_token(host: str, clock: Clock = _utcnow) -> Callable[[], Credentials]:
    def fetch() -> Credentials:
        from botocore.exceptions import BotoCoreError, ClientError

        try:  # ECR Public's API exists only in us-east-1, whatever AWS_REGION says
            data = client("ecr-public", "us-east-1").get_authorization_token()["authorizationData"]
        except (ClientError, BotoCoreError) as err:
            raise AuthError(f"ECR Public GetAuthorizationToken failed: {_code(err)}") from None
        if not isinstance(data, dict) or not data.get("authorizationToken"):
            raise AuthError("ECR Public GetAuthorizationToken returned no authorization data")
        token = data["authorizationToken"]
        log.mask(token)
        user, password = decode_token(token)
        log.mask(password)
        return Credentials(user, password, host, data.get("expiresAt"), clock())

    return fetch


class Repositories:
    """Checks and creates ECR repositories with the configured settings."""

    def __init__(
        self,
        region: str,
        account: str | None,
        settings: RepositorySettings,
        lifecycle_text: str | None,
        *,
        dry_run: bool = False,
    ) -> None:
        self._ecr = client("ecr", region)
        self._account = account
        self._settings = settings
        self._lifecycle = lifecycle_text
        self.dry_run = dry_run

    def _ids(self) -> dict[str, str]:
        return {"registryId": self._account} if self._account else {}

    def missing(self, names: list[str]) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        out = []
        for name in names:  # one call each: a batch fails as a whole when one is missing
            try:
                self._ecr.describe_repositories(repositoryNames=[name], **self._ids())
            except ClientError as err:
                if _code(err) != "RepositoryNotFoundException":
                    raise RegistryError(f"ECR DescribeRepositories {name}: {_code(err)}") from None
                out.append(name)
            except BotoCoreError as err:
                raise RegistryError(f"ECR DescribeRepositories {name}: {err}") from None
        return out

    def create(self, name: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        s = self._settings
        args: dict[str, Any] = {
            "repositoryName": name,
            "imageScanningConfiguration": {"scanOnPush": s.scan_on_push},
            "imageTagMutability": s.tag_mutability,
            "encryptionConfiguration": {"encryptionType": s.encryption.type},
            **self._ids(),
        }
        if s.tag_mutability == "IMMUTABLE" and s.mutable_tags:
            args["imageTagMutability"] = "IMMUTABLE_WITH_EXCLUSION"
            args["imageTagMutabilityExclusionFilters"] = [
                {"filterType": "WILDCARD", "filter": f} for f in s.mutable_tags
            ]
        if s.encryption.type == "KMS" and s.encryption.kms_key:
            args["encryptionConfiguration"]["kmsKey"] = s.encryption.kms_key
        if self.dry_run:
            log.LOG.info(
                "dry-run: would create ECR repository %s (%s)", name, args["imageTagMutability"]
            )
            return
        try:
            self._ecr.create_repository(**args)
            if self._lifecycle:
                self._ecr.put_lifecycle_policy(
                    repositoryName=name, lifecyclePolicyText=self._lifecycle, **self._ids()
                )
        except ClientError as err:
            if _code(err) != "RepositoryAlreadyExistsException":  # created meanwhile: fine
                raise RegistryError(f"ECR CreateRepository {name}: {_code(err)}: {err}") from None
        except BotoCoreError as err:
            raise RegistryError(f"ECR CreateRepository {name}: {err}") from None
        log.LOG.info("created ECR repository %s (%s)", name, args["imageTagMutability"])


class PutImageRetagger:
    """Adds a tag to an existing manifest with ECR PutImage (no layer moves)."""

    def __init__(self, region: str, account: str | None) -> None:
        self._ecr = client("ecr", region)
        self._account = account

    def tag(self, repository: str, tag: str, manifest: Manifest) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        ids = {"registryId": self._account} if self._account else {}
        try:
            self._ecr.put_image(
                repositoryName=repository,
                imageManifest=manifest.body.decode(),
                imageManifestMediaType=manifest.media_type,
                imageTag=tag,
                imageDigest=manifest.digest,
                **ids,
            )
        except ClientError as err:
            code = _code(err)
            if code == "ImageAlreadyExistsException":
                return  # this tag already names this very manifest
            kind = {
                "ImageTagAlreadyExistsException": Kind.IMMUTABLE,
                "ThrottlingException": Kind.TRANSIENT,
                "ServerException": Kind.TRANSIENT,
            }.get(code, Kind.FATAL)
            raise RegistryFailure(f"ECR PutImage {repository}:{tag}: {code}", kind) from None
        except BotoCoreError as err:
            raise RegistryFailure(
                f"ECR PutImage {repository}:{tag}: {err}", Kind.TRANSIENT
            ) from None


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
