#!/usr/bin/env python3
"""Benchmarks of `pipeline` against what a user would otherwise run.

Each figure is a ratio measured in one run on one machine: the raw docker CLI
script (build, tag, push every tag) against `pipeline run`, both pushing to
the same local sandbox registry through the same engine and builder. Not part
of `make test`; run with `make bench` (or `bench/run.py tags help first ...`).

    tags      `pipeline tags` on 20,000 commits and 5,000 tags (target < 1 s)
    help      `pipeline --help` (target < 0.3 s)
    first     first run of a 150 MB image (target <= 1.10x the raw script)
    rerun     unchanged commit on a cold runner, 20 s of RUN (target >= 10x faster)
    parallel  four sleep-bound images vs one after another (target >= 1.6x faster)

The push fault run (100 pushes through a proxy failing 20 % of requests) is its
own script: bench/push_faults.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import support  # noqa: E402

PY = sys.executable


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_help() -> dict[str, object]:
    runs = [timed(lambda: support.run([PY, "-m", "pipeline", "--help"])) for _ in range(10)]
    return {"median_s": round(statistics.median(runs), 3), "target_s": 0.3}


def bench_tags(work: Path) -> dict[str, object]:
    repo = support.big_repo(work / "big", commits=20_000, tags=5_000)
    cfg = repo / "pipeline.yaml"
    cfg.write_text(support.TAGS_CONFIG)
    (repo / "Dockerfile").write_text("FROM scratch\n")  # validate checks the build inputs exist
    env = support.clean_env()
    cmd = [PY, "-m", "pipeline", "-f", str(cfg), "tags", "--json"]
    out = json.loads(support.run(cmd, env=env, cwd=repo))
    runs = [timed(lambda: support.run(cmd, env=env, cwd=repo)) for _ in range(5)]
    return {
        "commits": 20_000,
        "tags": 5_000,
        "median_s": round(statistics.median(runs), 3),
        "target_s": 1.0,
        "tags_out": out["images"][0]["tags"],
    }


def bench_first(work: Path, box: support.Box) -> dict[str, object]:
    """Both sides build and upload 150 MB the registry has never seen.

    The raw script is timed with and without its registry login (every CI job
    logs in; `pipeline run` fetches its token inside the timed run). Each
    measurement gets its own random blob: with the same content, whoever ran
    second would find the layer already in the registry. The order of the
    two alternates from round to round.
    """
    # The marker step ties the COPY's build-cache records to this run (a COPY's record
    # names no step), so `cold_runner` can prune them; both sides run it.
    dockerfile = f"FROM local/busybox:1\nRUN echo {support.RUN_ID} > /bench-run\nCOPY blob /blob\n"
    project = support.project(work / "first", {"big": dockerfile})
    support.commit_and_tag(project, "v1.0.0", ignore=["big/blob"])
    logins, raws, ours = [], [], []
    for round_ in range(6):
        suffix = uuid.uuid4().hex[:6]
        raw_repo, our_repo = f"bench/raw-{suffix}", f"bench/ours-{suffix}"
        box.create_repository(raw_repo)

        def raw(r: str = raw_repo) -> tuple[float, float]:
            support.random_file(project / "big" / "blob", 150 * 1024 * 1024)
            support.cold_runner(box.host)
            login = timed(box.raw_login)
            build_push = timed(lambda: box.raw_script(project / "big", r, ["sha-x", "1.0.0"]))
            return login, build_push

        def mine(r: str = our_repo) -> float:
            support.random_file(project / "big" / "blob", 150 * 1024 * 1024)
            support.cold_runner(box.host)
            return timed(lambda: box.pipeline_run(project, {"big": r}))

        if round_ % 2:
            ours_s = mine()
            login_s, raw_s = raw()
        else:
            login_s, raw_s = raw()
            ours_s = mine()
        logins.append(login_s)
        raws.append(raw_s)
        ours.append(ours_s)
    whole = [o / (r + lg) for o, r, lg in zip(ours, raws, logins, strict=True)]
    build_push = [o / r for o, r in zip(ours, raws, strict=True)]
    return {
        "raw_login_s": [round(x, 2) for x in logins],
        "raw_build_push_s": [round(x, 2) for x in raws],
        "pipeline_s": [round(x, 2) for x in ours],
        "median_ratio_vs_login_build_push": round(statistics.median(whole), 3),
        "median_ratio_vs_build_push_only": round(statistics.median(build_push), 3),
        "target": "<= 1.10",
    }


def bench_rerun(work: Path, box: support.Box) -> dict[str, object]:
    dockerfile = (
        f"FROM local/busybox:1\nRUN echo {support.RUN_ID} && sleep 20 && date > /built-at\n"
        "COPY app.txt /app.txt\n"
    )
    project = support.project(work / "rerun", {"slow": dockerfile})
    (project / "slow" / "app.txt").write_text("hello\n")
    support.commit_and_tag(project, "v2.0.0")
    suffix = uuid.uuid4().hex[:6]
    raw_repo, our_repo = f"bench/raw-{suffix}", f"bench/ours-{suffix}"
    box.create_repository(raw_repo)
    # The first (published) run of each, untimed.
    box.raw_script(project / "slow", raw_repo, ["sha-x", "2.0.0"])
    box.pipeline_run(project, {"slow": our_repo})
    support.cold_runner(box.host)
    raw = timed(lambda: box.raw_script(project / "slow", raw_repo, ["sha-x", "2.0.0"]))
    support.cold_runner(box.host)
    ours = timed(lambda: box.pipeline_run(project, {"slow": our_repo}))
    return {
        "raw_s": round(raw, 2),
        "pipeline_s": round(ours, 2),
        "speedup": round(raw / ours, 1),
        "target": ">= 10",
    }


def bench_parallel(work: Path, box: support.Box) -> dict[str, object]:
    files = {
        f"svc{i}": f"FROM local/busybox:1\nRUN sleep 6 && echo {i} {support.RUN_ID} > /id\n"
        for i in range(4)
    }
    project = support.project(work / "parallel", files)
    support.commit_and_tag(project, "v3.0.0")
    repos = {name: f"bench/par-{name}-{uuid.uuid4().hex[:6]}" for name in files}
    support.cold_runner(box.host)
    sequential = timed(lambda: box.raw_builds(project, list(files)))
    support.cold_runner(box.host)
    ours = timed(lambda: box.pipeline_run(project, repos, only="build"))
    return {
        "one_after_another_s": round(sequential, 2),
        "pipeline_s": round(ours, 2),
        "speedup": round(sequential / ours, 2),
        "target": ">= 1.6",
    }


def main(argv: list[str]) -> int:
    wanted = argv or ["help", "tags", "first", "rerun", "parallel"]
    results: dict[str, object] = {
        "date": dt.date.today().isoformat(),
        "machine": support.machine(),
    }
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as tmp:
        work = Path(tmp)
        if "help" in wanted:
            results["help"] = bench_help()
            print("help", results["help"], flush=True)
        if "tags" in wanted:
            results["tags"] = bench_tags(work)
            print("tags", results["tags"], flush=True)
        heavy = [w for w in wanted if w in ("first", "rerun", "parallel")]
        if heavy:
            with support.Box(work / "sandbox") as box:
                for name in heavy:
                    fn = {"first": bench_first, "rerun": bench_rerun, "parallel": bench_parallel}[
                        name
                    ]
                    results[name] = fn(work, box)
                    print(name, results[name], flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (out / f"{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main(sys.argv[1:]))
