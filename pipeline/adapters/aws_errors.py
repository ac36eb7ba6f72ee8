"""An AWS call refused by IAM or by the credentials, said alike by every adapter.

AWS names the refusal in the error code (AccessDeniedException for the JSON
APIs, AccessDenied for the query ones). A proxy, or an emulation such as moto,
may answer a JSON API with a query-style XML body instead, which botocore
cannot parse: the code is then the bare HTTP status and the real one sits in
the body, so it is read from there.
"""

from __future__ import annotations

import re
from typing import Any

DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
UNKNOWN_KEY = frozenset(
    {"UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId"}
)
BAD_SIGNATURE = frozenset({"SignatureDoesNotMatch", "IncompleteSignature"})
REFUSED = DENIED | UNKNOWN_KEY | BAD_SIGNATURE
_XML_CODE = re.compile(r"<Code>([A-Za-z.]{1,64})</Code>")


def error_code(err: Exception) -> str:
    """The AWS error code of a botocore ClientError (from an XML body if need be)."""
    response = getattr(err, "response", None)
    if not isinstance(response, dict):
        return type(err).__name__
    error = response.get("Error") or {}
    code = str(error.get("Code") or type(err).__name__)
    if code.isdigit():
        found = _XML_CODE.search(str(error.get("Message") or ""))
        if found:
            return found.group(1)
    return code


def refusal(err: Exception, service: str) -> str | None:
    """What to tell the user when AWS refused the call itself, else None.

    Names the IAM action (`service:Operation`) and where the fix is; never the
    key, the policy or AWS's own message (which may carry markup).
    """
    code = error_code(err)
    operation: Any = getattr(err, "operation_name", None) or "?"
    action = f"{service}:{operation}"
    if code in DENIED:
        return (
            f"access denied ({code}): the AWS credentials' policy does not allow {action};"
            " `pipeline iam-policy` prints the policy this config needs"
        )
    if code in UNKNOWN_KEY:
        return f"the AWS access key is not recognised ({code}) for {action}; check the credentials"
    if code in BAD_SIGNATURE:
        return f"AWS refused the request signature ({code}) for {action}; check the secret key"
    return None
