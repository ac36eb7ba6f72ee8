"""What ECR does and the distribution registry does not: a front-proxy hook.

- A repository that the emulated ECR does not have is NAME_UNKNOWN (404), for
  writes and reads, with ECR's message; docker prints it in the push stream.
- In an immutable repository (IMMUTABLE; IMMUTABLE_WITH_EXCLUSION for tags no
  exclusion filter matches; MUTABLE_WITH_EXCLUSION for tags one matches) a
  manifest PUT to a tag ECR already lists is TAG_INVALID (400), even with the
  same digest, as ECR does.
- DELETE of a manifest or a blob is UNSUPPORTED (405): ECR deletes images
  only through BatchDeleteImage, which the sandbox mirrors into the registry;
  a delete behind ECR's back would leave it listing what cannot be pulled.
- The tag list of a repository ECR has but the registry has never seen is
  empty, not the registry's NAME_UNKNOWN.
- After a manifest PUT succeeds, the answer waits until ECR lists the digest
  and tag (see `after`).

Only authenticated requests are judged: without the right password the
registry's own 401 comes first, as it does in ECR.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re

from pipeline.sandbox.distribution import DIGEST, USER
from pipeline.sandbox.sync import Bridge, immutable_message, no_repository_message
from pipeline.sandbox.verdicts import Answer, Request, Response, Verdict, error_answer

LOG = logging.getLogger("pipeline.sandbox.ecr_rules")
_REPOSITORY = re.compile(r"^/v2/(?P<name>.+)/(?:manifests/[^/]+|blobs/.+|tags/list)$")
_MANIFEST = re.compile(r"^/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)$")
_CONTENT = re.compile(r"^/v2/.+/(?:manifests|blobs)/(?!uploads/)[^/]+$")  # not upload sessions


class EcrRules:
    def __init__(self, bridge: Bridge, password: str, wait: float = 5.0) -> None:
        self.bridge = bridge
        self.wait = wait
        self._credentials = f"{USER}:{password}".encode()

    def before(self, request: Request) -> Verdict:
        match = _REPOSITORY.match(request.path)
        if match is None or not self._authenticated(request):
            return None
        name = match["name"]
        ecr = self.bridge.ecr
        with self.bridge.lock:
            if ecr.repository(name) is None:
                message = no_repository_message(name, ecr.account)
                return error_answer(404, "NAME_UNKNOWN", message)
            if request.method == "DELETE" and _CONTENT.match(request.path):
                return error_answer(405, "UNSUPPORTED", "The operation is unsupported.")
            tag = _tag(request)
            if request.method == "PUT" and tag is not None and ecr.tag_locked(name, tag):
                return error_answer(400, "TAG_INVALID", immutable_message(name, tag))
            listing = request.method == "GET" and request.path.endswith("/tags/list")
            if listing and not any(ecr.snapshot(name).values()):
                body = json.dumps({"name": name, "tags": []}).encode()
                return Answer(200, body, (("Content-Type", "application/json"),))
        return None

    def after(self, request: Request, response: Response) -> None:
        """Hold a successful manifest PUT's answer until ECR has recorded it.

        The webhook stays the only writer of pushes into ECR (as the registry's
        notifications are ECR's push events), but notifications arrive a
        moment after the PUT returns. Waiting here gives the pushing client
        read-your-writes: DescribeImages right after `docker push` lists the
        image. The wait is bounded so a broken webhook slows a push down
        instead of hanging it; the log says when that happened.
        """
        match = _MANIFEST.match(request.path)
        if request.method != "PUT" or response.status != 201 or match is None:
            return
        digest = response.headers.get("Docker-Content-Digest", "")
        if not self.bridge.wait_for(match["name"], digest, _tag(request), self.wait):
            LOG.warning(
                "%s@%s: ECR has not recorded the push after %.1f s",
                match["name"],
                digest,
                self.wait,
            )

    def _authenticated(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(given, self._credentials)


def _tag(request: Request) -> str | None:
    """The tag a manifest request names; None for other requests and for digests."""
    match = _MANIFEST.match(request.path)
    if match is None or DIGEST.fullmatch(match["reference"]):
        return None
    return match["reference"]
