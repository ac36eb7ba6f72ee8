#!/usr/bin/env python3
"""100 pushes through a registry that fails 20 % of requests, with default settings.

A fault-injecting proxy sits in front of the sandbox registry: 20 % of the
requests that reach it are reset (before or after their body), answered 503
or 429, or stalled for a second. `pipeline run --only build,push` publishes
100 images (each with its own 64 KiB random layer) through it, with no
setting changed (no --jobs, no PIPELINE_* variable). Then, past the proxy,
each image is checked: the registry holds its tag, under the digest the
report gives, and that manifest's config is the image that was built.

For the record, the raw `docker push` of 100 other images (their own random
layers, logged in once) meets the same faults, 4 at a time, each given 60 s.

    bench/push_faults.py            # both
    bench/push_faults.py --no-raw   # the pipeline side only

The fault hook is the test suite's (`tests/faults.py`): it is not part of the package.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import support  # noqa: E402

IMAGES = 100
SHARE = 0.2
LAYER = 64 * 1024
RAW_PARALLEL = 4
RAW_LIMIT_S = 60.0
_RETRY = re.compile(r"push \S+/(img\d+):\S+: attempt (\d+) failed")
_CAUSE = re.compile(r": attempt \d+ failed \((.*)\); retrying in")
_CAUSES = (
    ("reset", re.compile(r"reset|broken pipe|EOF|connection broken|closed", re.IGNORECASE)),
    ("503", re.compile(r"503|unavailable", re.IGNORECASE)),
    ("429", re.compile(r"429|too ?many ?requests", re.IGNORECASE)),
    ("timeout", re.compile(r"time(d)? ?out", re.IGNORECASE)),
    ("layer retry", re.compile(r"dockerd would wait")),
    ("upload unknown", re.compile(r"blob upload unknown", re.IGNORECASE)),
    ("credentials", re.compile(r"unauthorized|authentication required", re.IGNORECASE)),
)


def _causes(stderr: str) -> dict[str, int]:
    """What the retried failures were, by signature (every retry in the run)."""
    counts: Counter[str] = Counter()
    for cause in _CAUSE.findall(stderr):
        kind = next((name for name, pattern in _CAUSES if pattern.search(cause)), "other")
        counts[kind] += 1
    return dict(counts)


def _images(project: Path, count: int) -> list[str]:
    names = []
    for i in range(count):
        folder = project / f"img{i}"
        folder.mkdir(parents=True)
        (folder / "Dockerfile").write_text("FROM local/busybox:1\nCOPY blob /blob\n")
        (folder / "blob").write_bytes(os.urandom(LAYER))
        names.append(f"img{i}")
    return names


def _config(prefix: str, names: list[str]) -> str:
    images = "\n".join(f"  - {{name: {n}, repository: {prefix}/{n}, context: {n}}}" for n in names)
    return (
        "version: 1\n"
        f'registry: {{type: ecr, account: "{support.ACCOUNT}", region: us-east-1,'
        " create_repositories: true}\n"
        "latest: never\n"
        "tags: [{type: sha}]\n"
        f"images:\n{images}\n"
    )


def _registry_reader(box: support.Box) -> Any:
    """The sandbox registry on its own port: no faults on the way."""
    from pipeline.adapters.credentials import Static
    from pipeline.adapters.ports import Credentials
    from pipeline.adapters.registry_http import RegistryClient

    user, password = _login(box)
    return RegistryClient(box.host, Static(Credentials(user, password, box.host)))


def _login(box: support.Box) -> tuple[str, str]:
    token = box._ecr().get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    return user, password


def _remove_images(marker: str) -> None:
    """Only the images this benchmark tagged (their repository names carry `marker`)."""
    listed = support.run([support.DOCKER, "images", "--format", "{{.Repository}}:{{.Tag}}"])
    mine = [ref for ref in listed.split() if marker in ref]
    if mine:
        subprocess.run([support.DOCKER, "rmi", "-f", *mine], capture_output=True, check=False)


def _landed(reader: Any, prefix: str, entry: dict[str, Any]) -> tuple[bool, str]:
    """Whether the registry holds this image under its tag, with the right digest."""
    if entry.get("error") or not entry.get("pushed") or not entry.get("digest"):
        return False, f"report: pushed={entry.get('pushed')} error={entry.get('error')}"
    tag = entry["tags"][0]
    manifest = reader.manifest(f"{prefix}/{entry['name']}", tag)
    if manifest is None:
        return False, f"{tag}: not in the registry"
    if manifest.digest != entry["digest"]:
        return False, f"{tag}: registry holds {manifest.digest}, report says {entry['digest']}"
    config = (json.loads(manifest.body).get("config") or {}).get("digest")
    if config != entry.get("image_id"):
        return False, f"{tag}: manifest config {config} is not the built image {entry['image_id']}"
    return True, ""


def ours(work: Path, box: support.Box, proxy: str) -> dict[str, Any]:
    project = work / "ours"
    project.mkdir()
    prefix = f"bench/faults-{uuid.uuid4().hex[:6]}"
    names = _images(project, IMAGES)
    (project / "pipeline.yaml").write_text(_config(prefix, names))
    (project / ".gitignore").write_text("report.json\n")
    support.git(project, "init", "-q", "-b", "main")
    support.git(project, "add", "-A")
    support.git(project, "commit", "-q", "-m", "bench")
    env = support.clean_env(box.env)
    env["PIPELINE_REGISTRY_HOST"] = proxy
    report = work / "report.json"
    started = time.monotonic()
    done = subprocess.run(
        [
            support.PY,
            "-m",
            "pipeline",
            "-v",
            "run",
            "--only",
            "build,push",
            "--report",
            str(report),
        ],
        env=env,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=3 * 3600,
        check=False,
    )
    took = time.monotonic() - started
    (work / "ours.stderr").write_text(done.stderr)
    data = json.loads(report.read_text()) if report.exists() else {"images": []}
    reader = _registry_reader(box)
    landed, problems = 0, {}
    for entry in data["images"]:
        ok, why = _landed(reader, prefix, entry)
        landed += ok
        if not ok:
            problems[entry["name"]] = why
    _remove_images(prefix)
    attempts: dict[str, int] = {}
    for name, attempt in _RETRY.findall(done.stderr):
        attempts[name] = max(attempts.get(name, 0), int(attempt))
    failed_tries = sorted(attempts.values(), reverse=True)
    return {
        "exit": done.returncode,
        "status": data.get("status"),
        "landed_right_digest": landed,
        "of": IMAGES,
        "seconds": round(took, 1),
        "images_retried": len(attempts),
        "failed_tries_total": sum(failed_tries),
        "most_failed_tries_one_image": failed_tries[0] if failed_tries else 0,
        "retried_causes": _causes(done.stderr),
        "problems": problems,
        "stderr_tail": done.stderr.splitlines()[-5:] if done.returncode else [],
    }


def raw(work: Path, box: support.Box, proxy: str, faults: Any) -> dict[str, Any]:
    """What `docker push` alone makes of the same faults (not a verdict: the record)."""
    project = work / "raw"
    project.mkdir()
    prefix = f"bench/raw-faults-{uuid.uuid4().hex[:6]}"
    names = _images(project, IMAGES)
    env = support.clean_env({"DOCKER_BUILDKIT": "1", "DOCKER_CONFIG": str(work / "raw-config")})
    refs = []
    for name in names:
        box.create_repository(f"{prefix}/{name}")
        ref = f"{proxy}/{prefix}/{name}:raw"
        support.run([support.DOCKER, "build", "-q", "-t", ref, str(project / name)], env=env)
        refs.append(ref)
    (work / "raw-config").mkdir(exist_ok=True)
    password = _login(box)[1]
    share, faults.share = faults.share, 0.0  # logging in is not what is measured
    try:
        support.run(
            [support.DOCKER, "login", "-u", "AWS", "--password-stdin", proxy],
            env=env,
            stdin=password.encode(),
        )
    finally:
        faults.share = share

    def push(ref: str) -> bool:
        proc = subprocess.Popen(
            [support.DOCKER, "push", ref],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        try:  # dockerd retries a layer for up to 50 s itself
            return proc.wait(timeout=RAW_LIMIT_S) == 0
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return False

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=RAW_PARALLEL) as pool:
        completed = sum(pool.map(push, refs))
    took = time.monotonic() - started
    _remove_images(prefix)
    return {
        "completed": completed,
        "of": IMAGES,
        "parallel": RAW_PARALLEL,
        "limit_per_push_s": RAW_LIMIT_S,
        "seconds": round(took, 1),
    }


def main(argv: list[str]) -> int:
    from pipeline.sandbox.proxy import ReverseProxy
    from tests.faults import KINDS, Faults

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-raw", action="store_true", help="skip the raw docker push side")
    parser.add_argument("--seed", type=int, default=None, help="the faults' random seed")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else int(time.time())
    results: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "machine": support.machine(),
        "share": SHARE,
        "seed": seed,
    }
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-faults-") as tmp:
        work = Path(tmp)
        with support.Box(work / "sandbox") as box:
            faults = Faults(share=SHARE, kinds=KINDS, seed=seed, stall_seconds=1.0)
            with ReverseProxy(box.host, [faults]) as proxy:
                before = Counter(faults.counts)
                results["pipeline"] = ours(work, box, proxy.address)
                fired = Counter(faults.counts)
                fired.subtract(before)
                results["pipeline"]["faults"] = dict(fired)
                print("pipeline", json.dumps(results["pipeline"]), flush=True)
                if not args.no_raw:
                    before = Counter(faults.counts)
                    results["raw_docker_push"] = raw(work, box, proxy.address, faults)
                    fired = Counter(faults.counts)
                    fired.subtract(before)
                    results["raw_docker_push"]["faults"] = dict(fired)
                    print("raw", json.dumps(results["raw_docker_push"]), flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (out / f"faults-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0 if results["pipeline"]["landed_right_digest"] == IMAGES else 1


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))
