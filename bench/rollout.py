#!/usr/bin/env python3
"""How soon `deploy_eks` notices a finished rollout (target: within 3 s).

Real time, real HTTP, the real kubernetes client: a small in-process API
server holds one Deployment whose rollout finishes a random 0.5-4 s after
the patch arrives (status updated as the controller would). The figure is
the time from "the status says done" to `deploy_eks` returning, over many
trials. The sandbox's Kubernetes emulation will give the same measurement
against a status that progresses by itself; until then this isolates our own
side: the poll interval, one GET and the judge.

    bench/rollout.py [TRIALS]
"""

from __future__ import annotations

import copy
import json
import random
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.adapters import kube  # noqa: E402
from pipeline.config.schema import EksTarget  # noqa: E402
from pipeline.kube.deploy import deploy_eks  # noqa: E402
from pipeline.kube.ports import Cluster, KubeApi  # noqa: E402

REPO = "127.0.0.1:5000/bench/app"
PATH = "/apis/apps/v1/namespaces/default/deployments/app"


class Controller:
    """The Deployment and when its current rollout is due to finish."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.obj: dict[str, Any] = {
            "metadata": {"name": "app", "namespace": "default", "generation": 1},
            "spec": {
                "replicas": 2,
                "template": {"spec": {"containers": [{"name": "app", "image": f"{REPO}:0"}]}},
            },
            "status": _status(1, 2, 2),
        }
        self.done_at: float | None = None
        self.delay = 1.0

    def read(self) -> dict[str, Any]:
        with self.lock:
            if self.done_at is not None and time.monotonic() >= self.done_at:
                generation = self.obj["metadata"]["generation"]
                self.obj["status"] = _status(generation, 2, 2)
            return copy.deepcopy(self.obj)

    def patch(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            image = body["spec"]["template"]["spec"]["containers"][0]["image"]
            self.obj["spec"]["template"]["spec"]["containers"][0]["image"] = image
            self.obj["metadata"]["generation"] += 1
            self.obj["status"] = _status(self.obj["metadata"]["generation"], 0, 2)
            self.done_at = time.monotonic() + self.delay
            return copy.deepcopy(self.obj)


def _status(observed: int, updated: int, available: int) -> dict[str, Any]:
    return {
        "observedGeneration": observed,
        "replicas": 2,
        "updatedReplicas": updated,
        "availableReplicas": available,
        "conditions": [{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}],
    }


def serve(controller: Controller) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, obj: dict[str, Any]) -> None:
            data = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._send(controller.read())

        def do_PATCH(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self._send(controller.patch(json.loads(body)))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


class Connector:
    def __init__(self, url: str) -> None:
        self.url = url

    def connect(self, cluster: Cluster) -> KubeApi:
        return kube.from_endpoint(self.url, None, lambda: "bench-token", "bench cluster")


def main(trials: int) -> dict[str, object]:
    controller = Controller()
    server = serve(controller)
    connector = Connector(f"http://127.0.0.1:{server.server_address[1]}")
    settings = EksTarget.model_validate(
        {"type": "eks", "image": "app", "cluster": "bench", "deployment": "app", "wait": "1m"}
    )
    rng = random.Random(7)
    lags = []
    for n in range(trials):
        controller.delay = rng.uniform(0.5, 4.0)
        image = f"{REPO}@sha256:{n:064x}"
        result = deploy_eks(settings, image, connector, time.monotonic, time.sleep)
        returned = time.monotonic()
        assert result.status == "completed", result
        assert controller.done_at is not None
        lags.append(returned - controller.done_at)
    server.shutdown()
    return {
        "trials": trials,
        "median_s": round(statistics.median(lags), 3),
        "max_s": round(max(lags), 3),
        "target_s": 3.0,
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20), indent=2))
