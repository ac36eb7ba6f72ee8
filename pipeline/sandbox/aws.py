"""moto in this process, with its ECR patched to agree with the sandbox registry.

In-process, rather than `moto_server` in a child, so that the backends can be
patched and read directly: the webhook records pushes in them, the proxy reads
repositories and tags from them, and later issues drive scans and rollouts
through them (reference/scan-gate-and-moto.md (c)).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from pipeline.sandbox import moto_patch
from pipeline.sandbox.serving import ServerThread
from pipeline.sandbox.sync import ApiError, Bridge

TOKEN_LIFETIME = timedelta(hours=12)  # what ECR gives


class MotoServer:
    """ThreadedMotoServer's parts, bound in the caller's thread.

    ThreadedMotoServer binds inside its thread, so a taken port would leave
    start() waiting forever; binding here turns it into an OSError.
    """

    def __init__(self, host: str, port: int) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)
        self._serving = ServerThread(
            make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
        )

    @property
    def port(self) -> int:
        return int(self._serving.server.server_port)

    def start(self) -> MotoServer:
        self._serving.start("moto")
        return self

    def stop(self) -> None:
        self._serving.stop()


def patch_ecr(
    bridge: Bridge,
    password: str,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> Callable[[], None]:
    """Make moto's ECR API speak for the sandbox registry; returns the undo.

    Only calls in the sandbox's own account and region are changed: that is
    the one ECR registry the registry behind the proxy stands for.
    """
    from moto.core.responses import ActionResult
    from moto.ecr.responses import ECRResponse

    names = ("get_authorization_token", "put_image", "batch_delete_image", "delete_repository")
    patch = moto_patch.Patch(ECRResponse, names)
    originals = patch.originals
    token = base64.b64encode(f"AWS:{password}".encode()).decode()
    EcrError = moto_patch.error_type()

    def ours(response: Any) -> bool:
        return moto_patch.ours(response, bridge.ecr.account, bridge.ecr.region)

    def get_authorization_token(self: Any) -> Any:
        ids = self._get_param("registryIds") or [self.current_account]
        expires = now() + TOKEN_LIFETIME
        return ActionResult(
            {
                "authorizationData": [
                    {
                        "authorizationToken": token,
                        "expiresAt": expires,
                        "proxyEndpoint": f"https://{rid}.dkr.ecr.{self.region}.amazonaws.com",
                    }
                    for rid in ids
                ]
            }
        )

    def put_image(self: Any) -> Any:
        if not ours(self):
            return originals["put_image"](self)
        try:
            image = bridge.put_image(
                self._get_param("repositoryName"),
                self._get_param("imageManifest"),
                self._get_param("imageTag"),
                self._get_param("imageManifestMediaType"),
                self._get_param("imageDigest"),
            )
        except ApiError as err:
            raise EcrError(err.code, err.message) from err
        return ActionResult({"image": image})

    def batch_delete_image(self: Any) -> Any:
        run = originals["batch_delete_image"]
        if not ours(self):
            return run(self)
        return bridge.delete_images(self._get_param("repositoryName"), lambda: run(self))

    def delete_repository(self: Any) -> Any:
        run = originals["delete_repository"]
        if not ours(self):
            return run(self)
        return bridge.delete_repository(self._get_param("repositoryName"), lambda: run(self))

    return patch.install(
        {
            "get_authorization_token": get_authorization_token,
            "put_image": put_image,
            "batch_delete_image": batch_delete_image,
            "delete_repository": delete_repository,
        }
    )
