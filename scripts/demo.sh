#!/usr/bin/env bash
# `make demo`: the main job end to end on the local sandbox, no AWS account needed.
# Starts the sandbox (moto + the registry), then validates, plans, builds and
# pushes the two example images of pipeline.example.yaml, and shows what the
# emulated ECR now holds. Run it twice: the second run reuses both images.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
config=pipeline.example.yaml
say() { printf '\n== %s\n' "$*"; }

say "starting the sandbox"
"$py" -m pipeline sandbox up
eval "$("$py" -m pipeline sandbox env)"

say "pipeline validate"
"$py" -m pipeline -f "$config" validate

say "pipeline plan (this repository's own history)"
"$py" -m pipeline -f "$config" plan --only build,push

say "pipeline run --only build,push"
"$py" -m pipeline -f "$config" run --only build,push --report .sandbox/demo-report.json

say "what the emulated ECR lists now"
"$py" - <<'PY'
import boto3

ecr = boto3.client("ecr")
for repo in ("demo/backend", "demo/frontend"):
    for image in ecr.describe_images(repositoryName=repo)["imageDetails"]:
        tags = ", ".join(image.get("imageTags", [])) or "(untagged)"
        print(f"  {repo}@{image['imageDigest'][:19]}...  {tags}")
PY

cat <<MSG

The report is in .sandbox/demo-report.json. The sandbox keeps running:
  eval "\$($py -m pipeline sandbox env)"   # use it from this shell (boto3, docker pull ...)
  $py -m pipeline sandbox down            # stop it and remove its state
MSG
