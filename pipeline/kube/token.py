"""The EKS bearer token: a presigned STS GetCallerIdentity URL.

Format and lifetime follow aws-iam-authenticator (pkg/token/token.go) and
`aws eks get-token`: `k8s-aws-v1.` + base64url of the URL without padding;
the cluster name travels in the signed `x-k8s-aws-id` header;
`X-Amz-Expires=60` is sent for old authenticators that check 0..60, but STS
honours a presigned URL for 15 minutes after its `X-Amz-Date` whatever it
says. A token is therefore replaced after 14 minutes, as aws-cli's
`expirationTimestamp` tells client-go to do.

The host is always the regional STS endpoint of the region's partition
(`sts.cn-north-1.amazonaws.com.cn`, `sts.us-gov-west-1.amazonaws.com`): the
global `sts.amazonaws.com` exists only in the aws partition, and EKS
authenticators reject a host outside their own partition.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
from collections.abc import Callable

from pipeline import log
from pipeline.registry import partition

PREFIX = "k8s-aws-v1."
CLUSTER_HEADER = "x-k8s-aws-id"
PRESIGN_EXPIRES = 60  # seconds; ignored by STS, checked by old authenticators
LIFETIME = dt.timedelta(minutes=15)
REFRESH_AFTER = dt.timedelta(minutes=14)  # one minute of cushion, as aws-cli
MAX_LENGTH = 4096  # what aws-iam-authenticator accepts

Clock = Callable[[], dt.datetime]


def sts_host(region: str) -> str:
    return f"sts.{region}.{partition(region).suffix}"


def caller_identity_url(region: str) -> str:
    """The unsigned request that gets presigned."""
    return f"https://{sts_host(region)}/?Action=GetCallerIdentity&Version=2011-06-15"


def encode(presigned_url: str) -> str:
    raw = base64.urlsafe_b64encode(presigned_url.encode()).decode().rstrip("=")
    return PREFIX + raw


def decode(token: str) -> str:
    """The presigned URL inside a token (for checks and tests)."""
    if not token.startswith(PREFIX):
        raise ValueError(f"not an EKS token: missing the {PREFIX!r} prefix")
    raw = token[len(PREFIX) :]
    return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()


class TokenSource:
    """Hands out the current token and makes a new one before STS stops honouring it.

    `presign` returns a presigned URL; every token is registered with the
    log's mask the moment it exists, so neither it nor the URL's signature
    can reach a log line.
    """

    def __init__(self, presign: Callable[[], str], clock: Clock) -> None:
        self._presign = presign
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._issued: dt.datetime | None = None

    def get(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or self._issued is None or now - self._issued >= REFRESH_AFTER:
                url = self._presign()
                token = encode(url)
                log.mask(token, url)
                self._token, self._issued = token, now
            return self._token

    @property
    def expires_at(self) -> dt.datetime | None:
        return None if self._issued is None else self._issued + LIFETIME

    def __repr__(self) -> str:
        return f"TokenSource(issued={self._issued})"
