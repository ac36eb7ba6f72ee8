#!/usr/bin/env python3
"""How soon a finished scan is noticed: our wait loop against boto3's waiter.

Four images whose scans take 10 s each, served over HTTP by moto in this
process (so that the scan's IN_PROGRESS -> COMPLETE progression can be
scripted in moto's state, which its API cannot do). Both sides talk to the
same server through boto3:

    ours      pipeline.scan.wait.wait_all (4 workers) through the ECR adapter,
              then the gate
    waiter    what CI glue runs today: `aws ecr wait image-scan-complete` per
              image, one after another (boto3's `image_scan_complete`, 5 s delay)

Goals (issue 9): a completed scan noticed within 2 s; four images with 10 s
scans all gated in under 14 s. Run: `.venv/bin/python bench/scan_wait.py`.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from moto.backends import get_backend  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402

from pipeline.adapters.ecr_scan import EcrScanApi  # noqa: E402
from pipeline.scan.gate import GatePolicy, evaluate  # noqa: E402
from pipeline.scan.ports import ImageRef  # noqa: E402
from pipeline.scan.wait import WaitPolicy, WaitRequest, wait_all  # noqa: E402

ACCOUNT, REGION = "123456789012", "us-east-1"
SCAN_SECONDS = 10.0
IMAGES = 4
OFFSETS = (1.3, 2.9, 4.7, 6.1, 7.9)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Scans:
    """Images in moto whose scans move IN_PROGRESS -> COMPLETE at a set time."""

    def __init__(self, endpoint: str) -> None:
        self.ecr = boto3.client(
            "ecr",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        self.done_at: dict[str, float] = {}
        self.timers: list[threading.Timer] = []

    def image(self, name: str, salt: str) -> ImageRef:
        self.ecr.create_repository(
            repositoryName=name, imageScanningConfiguration={"scanOnPush": True}
        )
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1,
                "digest": "sha256:" + salt * 64,
            },
            "layers": [],
        }
        answer = self.ecr.put_image(
            repositoryName=name, imageManifest=json.dumps(manifest), imageTag="v1"
        )
        return ImageRef(name, answer["image"]["imageId"]["imageDigest"])

    def scan(self, image: ImageRef, seconds: float) -> None:
        """Starts a scan that reports IN_PROGRESS for `seconds`, then COMPLETE."""
        self.ecr.start_image_scan(
            repositoryName=image.repository, imageId={"imageDigest": image.digest}
        )
        found = self.ecr.describe_image_scan_findings(
            repositoryName=image.repository, imageId={"imageDigest": image.digest}
        )
        complete = {k: v for k, v in found.items() if k != "ResponseMetadata"}
        complete["imageScanFindings"]["imageScanCompletedAt"] = time.time()
        complete["imageScanFindings"]["vulnerabilitySourceUpdatedAt"] = time.time()
        pending = copy.deepcopy(complete)
        pending["imageScanStatus"] = {"status": "IN_PROGRESS"}
        del pending["imageScanFindings"]
        repo = get_backend("ecr")[ACCOUNT][REGION].repositories[image.repository]
        stored = next(i for i in repo.images if i.image_digest == image.digest)
        # The key moto files a scripted result under: the request's imageId.
        key = json.dumps({"imageDigest": image.digest})
        stored.scan_finding_results[key] = pending

        def finish() -> None:
            stored.scan_finding_results[key] = complete
            self.done_at[image.repository] = time.perf_counter()

        timer = threading.Timer(seconds, finish)
        self.timers.append(timer)
        timer.start()


def run_ours(scans: Scans, images: list[ImageRef], api: EcrScanApi) -> dict[str, Any]:
    seen: dict[str, float] = {}

    def log(message: str) -> None:
        if message.endswith(": COMPLETE"):
            seen[message.split(":", 1)[0]] = time.perf_counter()

    start = time.perf_counter()
    for image in images:
        scans.scan(image, SCAN_SECONDS)
    requests = [WaitRequest(i.repository, i) for i in images]
    outcomes = wait_all(api, requests, WaitPolicy(timeout=60.0), workers=4, log=log)
    result = evaluate(outcomes, GatePolicy({"CRITICAL": 0}), dt.date.today())
    total = time.perf_counter() - start
    assert all(o.usable for o in outcomes), [o.error for o in outcomes]
    lags = [seen[i.repository] - scans.done_at[i.repository] for i in images]
    return {"gated_s": round(total, 2), "decision": result.decision, "lags_s": lags}


def run_waiter(scans: Scans, images: list[ImageRef]) -> dict[str, Any]:
    waiter = scans.ecr.get_waiter("image_scan_complete")
    start = time.perf_counter()
    for image in images:
        scans.scan(image, SCAN_SECONDS)
    seen: dict[str, float] = {}
    for image in images:
        waiter.wait(repositoryName=image.repository, imageId={"imageDigest": image.digest})
        seen[image.repository] = time.perf_counter()
    total = time.perf_counter() - start
    lags = [seen[i.repository] - scans.done_at[i.repository] for i in images]
    return {"gated_s": round(total, 2), "lags_s": lags}


def notice(scans: Scans, api: EcrScanApi | None, after: float, salt: str) -> float:
    """One image whose scan finishes `after` seconds in: how late is it seen?
    (`api` None: by boto3's waiter.)"""
    image = scans.image(f"bench/notice-{'ours' if api else 'waiter'}-{salt}", salt)
    seen: list[float] = []

    def log(message: str) -> None:
        if message.endswith(": COMPLETE"):
            seen.append(time.perf_counter())

    scans.scan(image, after)
    if api is None:
        scans.ecr.get_waiter("image_scan_complete").wait(
            repositoryName=image.repository, imageId={"imageDigest": image.digest}
        )
        seen.append(time.perf_counter())
    else:
        wait_all(api, [WaitRequest("one", image)], WaitPolicy(timeout=60.0), workers=1, log=log)
    return seen[0] - scans.done_at[image.repository]


def main() -> None:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        scans = Scans(endpoint)
        api = EcrScanApi(scans.ecr)
        ours = [scans.image(f"bench/ours-{i}", str(i)) for i in range(IMAGES)]
        theirs = [scans.image(f"bench/waiter-{i}", "abcd"[i]) for i in range(IMAGES)]
        mine = run_ours(scans, ours, api)
        baseline = run_waiter(scans, theirs)
        # Scans that finish at other moments than a round 10 s after the wait began.
        trials = list(zip(OFFSETS, "56789", strict=True))
        lags = [notice(scans, api, after, salt) for after, salt in trials]
        waiter_lags = [notice(scans, None, after, salt) for after, salt in trials]
        report = {
            "date": dt.date.today().isoformat(),
            "four_images": {
                "scan_s": SCAN_SECONDS,
                "ours_gated_s": mine["gated_s"],
                "ours_notice_s": [round(x, 2) for x in mine["lags_s"]],
                "waiter_one_after_another_s": baseline["gated_s"],
                "waiter_notice_s": [round(x, 2) for x in baseline["lags_s"]],
                "goal_s": 14.0,
            },
            "notice": {
                "scan_finished_after_s": list(OFFSETS),
                "ours_s": [round(x, 2) for x in lags],
                "waiter_s": [round(x, 2) for x in waiter_lags],
                "ours_median_s": round(statistics.median(lags), 2),
                "ours_max_s": round(max(lags + mine["lags_s"]), 2),
                "waiter_median_s": round(statistics.median(waiter_lags), 2),
                "waiter_max_s": round(max(waiter_lags), 2),
                "goal_s": 2.0,
            },
        }
        print(json.dumps(report, indent=2))
        for timer in scans.timers:
            timer.cancel()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
