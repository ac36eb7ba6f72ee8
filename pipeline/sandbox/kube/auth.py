"""Who may call the API: a bearer token, checked for form (no signature check).

Two kinds of token pass:
- the sandbox's own token, random per sandbox, written into its kubeconfig
  (it stands in for a ServiceAccount token, so kubectl works for as long as
  the sandbox runs);
- an EKS token as `aws eks get-token` makes it: `k8s-aws-v1.` and the
  unpadded base64url of a presigned STS GetCallerIdentity URL. Checked as
  aws-iam-authenticator checks it, except for the signature: at most 4096
  bytes, https to a partition's STS host (or http(s) to a loopback host, where
  the sandbox's own STS answers), path `/`, only the known query parameters,
  Action=GetCallerIdentity, `x-k8s-aws-id` among the signed headers, and
  X-Amz-Date no more than 15 minutes ago (a client must refresh its token).

Anything else (no header, another scheme, a malformed or expired token) is
401. The reason goes into the answer's message, never the token.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from calendar import timegm
from time import strptime
from urllib.parse import parse_qs, urlsplit

EKS_PREFIX = "k8s-aws-v1."
MAX_TOKEN = 4096
LIFETIME = 15 * 60  # seconds after X-Amz-Date

_STS_HOST = re.compile(
    r"^sts(-fips)?(\.[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+)?"
    r"\.(amazonaws\.com(\.cn)?|amazonaws\.eu|c2s\.ic\.gov|sc2s\.sgov\.gov)$"
)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_ALLOWED = {
    "action",
    "version",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-signedheaders",
}


class Rejected(Exception):
    """Why a request's credentials do not pass (safe to show: no token inside)."""


def check(header: str | None, own_token: str, now: float) -> str:
    """The kind of caller ("sandbox" or "eks"); raises Rejected otherwise."""
    if not header:
        raise Rejected("no bearer token (an Authorization header is required)")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Rejected("the Authorization header is not `Bearer <token>`")
    if hmac.compare_digest(token.encode(), own_token.encode()):
        return "sandbox"
    if not token.startswith(EKS_PREFIX):
        raise Rejected("unknown token: neither the sandbox's nor an EKS `k8s-aws-v1.` token")
    check_eks(token, now)
    return "eks"


def check_eks(token: str, now: float) -> None:
    if len(token) > MAX_TOKEN:
        raise Rejected(f"the EKS token is longer than {MAX_TOKEN} bytes")
    encoded = token[len(EKS_PREFIX) :]
    if "=" in encoded:
        raise Rejected("the EKS token must be unpadded base64url")
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        url = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, ValueError):
        raise Rejected("the EKS token is not base64url of a URL") from None
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback = host in _LOOPBACK
    if parts.scheme != "https" and not (loopback and parts.scheme == "http"):
        raise Rejected("the EKS token's URL must be https")
    if not loopback and not _STS_HOST.match(host):
        raise Rejected(f"the EKS token's URL is not an STS endpoint ({host or 'no host'})")
    if parts.path not in ("", "/"):
        raise Rejected("the EKS token's URL must have the path /")
    query = parse_qs(parts.query, keep_blank_values=True)
    lowered: dict[str, str] = {}
    for key, values in query.items():
        if key.lower() not in _ALLOWED:
            raise Rejected(f"the EKS token's URL has an unexpected parameter {key!r}")
        if len(values) != 1 or key.lower() in lowered:
            raise Rejected(f"the EKS token's URL repeats {key!r}")
        lowered[key.lower()] = values[0]
    if lowered.get("action") != "GetCallerIdentity":
        raise Rejected("the EKS token is not for STS GetCallerIdentity")
    for required in ("x-amz-credential", "x-amz-signature", "x-amz-date"):
        if not lowered.get(required):
            raise Rejected(f"the EKS token's URL lacks {required}")
    signed = lowered.get("x-amz-signedheaders", "").lower().split(";")
    if "x-k8s-aws-id" not in signed:
        raise Rejected("the EKS token does not sign the x-k8s-aws-id header (the cluster name)")
    expires = lowered.get("x-amz-expires", "0")
    if not expires.isdigit() or int(expires) > LIFETIME:
        raise Rejected(f"X-Amz-Expires must be 0-{LIFETIME}")
    try:
        signed_at = timegm(strptime(lowered["x-amz-date"], "%Y%m%dT%H%M%SZ"))
    except ValueError:
        raise Rejected("the EKS token's X-Amz-Date is not YYYYMMDDTHHMMSSZ") from None
    if now > signed_at + LIFETIME:
        raise Rejected("the EKS token has expired (15 minutes after X-Amz-Date)")
