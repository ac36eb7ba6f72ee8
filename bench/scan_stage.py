#!/usr/bin/env python3
"""The scan stage inside `pipeline run`, against the sandbox: four images, 10 s scans.

Each image's next scan is scripted with `pipeline sandbox findings REPO --delay 10`
(IN_PROGRESS for 10 s from its push, then COMPLETE), so the scans start when
the images land, as ECR's scan on push does. Two ways to wait, each after a
fresh push of four new images:

    ours      `pipeline run --only build,push,scan,gate`: the report's seconds
              for scan + gate (the images are waited for in parallel)
    waiter    what CI glue runs today after `pipeline run --only build,push`:
              `aws ecr wait image-scan-complete` per image, one after another
              (boto3's `image_scan_complete`: a poll every 5 s)

Goal (issue 9): four images with 10 s scans all gated in under 14 s.
Run: `.venv/bin/python bench/scan_stage.py`.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import support  # noqa: E402

IMAGES = 4
SCAN_SECONDS = 10


def project(path: Path, prefix: str, nonce: str) -> Path:
    names = [f"img{i}" for i in range(IMAGES)]
    support.project(
        path, {n: f"FROM local/busybox:1\nRUN echo {nonce}-{n} > /nonce\n" for n in names}
    )
    images = ", ".join(f"{{name: {n}, context: {n}, repository: {prefix}/{n}}}" for n in names)
    (path / "pipeline.yaml").write_text(
        "version: 1\n"
        f'registry: {{type: ecr, account: "{support.ACCOUNT}", region: us-east-1}}\n'
        "latest: never\ndefault_branch: main\ntags: [{type: sha}]\n"
        f"scan: {{timeout: 60s, thresholds: {{critical: 0}}}}\nimages: [{images}]\n"
    )
    support.commit_and_tag(path, f"v0.0.{int(time.time())}")
    return path


def script_scans(box: support.Box, prefix: str, tmp: Path) -> list[str]:
    ecr = box._ecr()
    findings = tmp / "findings.json"
    findings.write_text(json.dumps({"findings": []}))
    repos = []
    for i in range(IMAGES):
        repo = f"{prefix}/img{i}"
        repos.append(repo)
        ecr.create_repository(repositoryName=repo, imageScanningConfiguration={"scanOnPush": True})
        script = ["findings", repo, "--file", str(findings), "--delay", str(SCAN_SECONDS)]
        support.run(
            [support.PY, "-m", "pipeline", "sandbox", *script, "--dir", str(box.sandbox.dir)],
            env=support.clean_env(box.env),
        )
    return repos


def ours(box: support.Box, work: Path) -> dict[str, Any]:
    prefix = f"bench/scan-ours-{uuid.uuid4().hex[:6]}"
    path = project(work / "ours", prefix, uuid.uuid4().hex)
    script_scans(box, prefix, work)
    report = work / "ours-report.json"
    argv = [support.PY, "-m", "pipeline", "-q", "run", "--only", "build,push,scan,gate"]
    support.run([*argv, "--report", str(report)], env=support.clean_env(box.env), cwd=path)
    data = json.loads(report.read_text())
    seconds = data["seconds"]
    assert data["status"] == "ok", data
    assert all(i["scan"]["status"] == "COMPLETE" for i in data["images"]), data
    return {"scan_and_gate_s": round(seconds["scan"] + seconds["gate"], 2)}


def waiter(box: support.Box, work: Path) -> dict[str, Any]:
    prefix = f"bench/scan-waiter-{uuid.uuid4().hex[:6]}"
    path = project(work / "waiter", prefix, uuid.uuid4().hex)
    repos = script_scans(box, prefix, work)
    report = work / "waiter-report.json"
    argv = [support.PY, "-m", "pipeline", "-q", "run", "--only", "build,push"]
    support.run([*argv, "--report", str(report)], env=support.clean_env(box.env), cwd=path)
    digests = {i["name"]: i["digest"] for i in json.loads(report.read_text())["images"]}
    ecr = box._ecr()
    started = time.monotonic()
    for repo in repos:  # `aws ecr wait image-scan-complete` for each image in turn
        ecr.get_waiter("image_scan_complete").wait(
            repositoryName=repo, imageId={"imageDigest": digests[repo.rsplit("/", 1)[1]]}
        )
    return {"waiters_s": round(time.monotonic() - started, 2)}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as tmp:
        work = Path(tmp)
        with support.Box(work / "sandbox") as box:
            result = {
                "date": dt.date.today().isoformat(),
                "machine": support.machine(),
                "images": IMAGES,
                "scan_s": SCAN_SECONDS,
                **ours(box, work),
                **waiter(box, work),
                "target": "scan_and_gate_s < 14",
            }
    print(json.dumps(result, indent=2))
    return 0 if result["scan_and_gate_s"] < 14 else 1


if __name__ == "__main__":
    sys.exit(main())
