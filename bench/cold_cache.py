"""Cold runner, one line of application code changed: the layer cache from the registry.

    python -m bench.cold_cache [SECONDS]   (default 20 s of dependency step)

Both sides start cold: their local images are removed and the build-cache
records of the dependency step are pruned by id (the step echoes a nonce of
this run, so nothing else on the shared engine has it; nothing else is
pruned). The raw side is what a user's script does on a fresh runner:
`docker build` and `docker push`, with a login. The pipeline side is
`pipeline run --only build,push` of the new commit, which finds the parent
commit's image in the registry and builds from its inline cache. The pushed
image is checked: its application file is the new one.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

from bench import support
from tests.integration.build.cold import forget_build_cache

DOCKER = support.DOCKER


def remove_images(marker: str) -> None:
    images = support.run([DOCKER, "images", "--format", "{{.Repository}}:{{.Tag}}"]).split()
    for ref in (i for i in images if marker in i):
        support.run([DOCKER, "image", "rm", ref])


def app_file(box: support.Box, repo: str, tag: str) -> bytes:
    """/app.txt of the pushed image, read from the registry (last layer wins)."""
    import requests

    password = support.run(
        [
            support.PY,
            "-c",
            "import base64, boto3; t = boto3.client('ecr').get_authorization_token()"
            "['authorizationData'][0]['authorizationToken'];"
            " print(base64.b64decode(t).decode().partition(':')[2])",
        ],
        env=support.clean_env(box.env),
    ).strip()
    auth = ("AWS", password)
    base = f"http://{box.host}/v2/{repo}"
    accept = ",".join(
        (
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
        )
    )
    manifest = requests.get(
        f"{base}/manifests/{tag}", auth=auth, headers={"Accept": accept}, timeout=30
    )
    manifest.raise_for_status()
    found = b""
    for layer in manifest.json()["layers"]:
        blob = requests.get(f"{base}/blobs/{layer['digest']}", auth=auth, timeout=60).content
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            for member in tar:
                if member.name.lstrip("./") == "app.txt":
                    handle = tar.extractfile(member)
                    found = handle.read() if handle else b""
    return found


def main(argv: list[str]) -> int:
    seconds = int(argv[0]) if argv else 20
    nonce = uuid.uuid4().hex
    suffix = nonce[:6]
    raw_repo, our_repo = f"bench/cold-raw-{suffix}", f"bench/cold-ours-{suffix}"
    with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as tmp:
        work = Path(tmp)
        project = work / "app"
        project.mkdir()
        support.git(project, "init", "-q", "-b", "main")
        (project / "Dockerfile").write_text(
            "FROM local/busybox:1\n"
            f"RUN echo {nonce} > /deps.txt && sleep {seconds}\n"
            "COPY app.txt /app.txt\n"
        )
        (project / "app.txt").write_text("v1\n")
        (project / ".gitignore").write_text("report.json\n")
        (project / "pipeline.yaml").write_text(
            "version: 1\n"
            f'registry: {{type: ecr, account: "{support.ACCOUNT}", region: us-east-1,'
            " create_repositories: true}\n"
            "latest: never\ndefault_branch: main\n"
            "tags: [{type: sha}]\n"
            f"images: [{{name: app, repository: {our_repo}}}]\n"
        )
        support.git(project, "add", "-A")
        support.git(project, "commit", "-q", "-m", "first")
        with support.Box(work / "sandbox") as box:
            box.create_repository(raw_repo)
            argv_run = [support.PY, "-m", "pipeline", "-q", "run", "--only", "build,push"]
            env = support.clean_env(box.env)
            # the published parent commit, untimed
            support.run(argv_run, env=env, cwd=project)
            (project / "app.txt").write_text("v2\n")
            support.git(project, "commit", "-q", "-am", "application code only")
            sha = support.git(project, "rev-parse", "HEAD").strip()

            remove_images(suffix)
            forget_build_cache(nonce)
            started = time.monotonic()
            box.raw_script(project, raw_repo, [f"sha-{sha[:7]}"])
            raw = time.monotonic() - started

            remove_images(suffix)
            forget_build_cache(nonce)
            started = time.monotonic()
            support.run(argv_run, env=env, cwd=project)
            ours = time.monotonic() - started

            pushed = app_file(box, our_repo, f"sha-{sha[:7]}")
            remove_images(suffix)
            forget_build_cache(nonce)
    result = {
        "date": dt.date.today().isoformat(),
        "machine": support.machine(),
        "dependency_step_s": seconds,
        "raw_cold_build_and_push_s": round(raw, 2),
        "pipeline_cached_rebuild_s": round(ours, 2),
        "speedup": round(raw / ours, 1),
        "target": ">= 4",
        "pushed_app_file_is_new": pushed == b"v2\n",
    }
    print(json.dumps(result, indent=2))
    return 0 if result["pushed_app_file_is_new"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
