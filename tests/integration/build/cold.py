"""Making the shared engine "cold" for one test's own build steps only.

A cold CI runner has neither the images nor BuildKit's cache records. The
engine here is shared, so nothing is pruned wholesale: each test's dependency
step echoes a nonce of its own, and only the build-cache records of that step
(and the records built on top of them) are pruned, by id. After that the
engine can only get that step from the registry.
"""

from __future__ import annotations

import json
import re
import subprocess

DOCKER = "/usr/bin/docker"  # the Debian client (no buildx needed for `builder prune`)


def _records() -> list[dict[str, str]]:
    # `system df -v` sizes every image and container too, and fails when one of them
    # disappears while it counts (another build or test removing its own): ask again.
    tries = 3
    for _ in range(tries):
        out = subprocess.run(
            [DOCKER, "system", "df", "-v", "--format", "{{json .BuildCache}}"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if out.returncode == 0:
            return list(json.loads(out.stdout) or [])
    raise AssertionError(f"docker system df -v failed {tries} times: {out.stderr.strip()}")


def forget_build_cache(nonce: str) -> int:
    """Prune the cache records whose step mentions `nonce`, and their descendants."""
    records = _records()
    ours = {r["ID"] for r in records if nonce in (r.get("Description") or "")}
    grew = True
    while grew:
        grew = False
        for record in records:
            if record.get("Parent") in ours and record["ID"] not in ours:
                ours.add(record["ID"])
                grew = True
    parents = {r["ID"]: r.get("Parent") for r in records}
    # children before parents: a record others build on cannot go first
    ordered = sorted(ours, key=lambda i: -_depth(i, parents, ours))
    for record_id in ordered:
        subprocess.run(
            [DOCKER, "builder", "prune", "-f", "--filter", f"id={record_id}"],
            capture_output=True,
            check=True,
            timeout=120,
        )
    left = {r["ID"] for r in _records()} & ours
    assert not left, f"build cache records still there: {left}"
    return len(ours)


def _depth(record: str, parents: dict[str, str | None], ours: set[str]) -> int:
    depth = 0
    while parents.get(record) in ours:
        record = str(parents[record])
        depth += 1
    return depth


def step_cached(output: str, needle: str) -> bool:
    """Did the BuildKit step whose title contains `needle` come from the cache?"""
    numbers = set(re.findall(r"(#\d+) \[[^\]]*\] [^\n]*" + re.escape(needle), output))
    return bool(numbers) and any(re.search(rf"{n} CACHED\b", output) for n in numbers)
