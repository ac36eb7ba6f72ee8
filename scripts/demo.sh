#!/usr/bin/env bash
# `make demo`: the main job end to end on the local sandbox, no AWS account needed.
# Starts the sandbox (moto + the registry + a Kubernetes API), validates and
# plans pipeline.example.yaml, then releases the two example images three
# times from a scratch copy of the example (its own git history, in
# .sandbox/demo-project), each with plain `pipeline run` (every stage: build,
# push, scan, gate, promote, deploy):
#   v1.3.0  a clean scan: promoted (latest, 1.3, main) and deployed to an ECS
#           service, a Kubernetes Deployment (through an emulated EKS cluster)
#           and a kustomization in a scratch git repository
#   v1.4.0  the scan finds a CRITICAL vulnerability: the gate blocks (exit 3),
#           no mutable tag moves and nothing is deployed
#   v1.4.1  the fix: its scan finds only a finding the config accepts (an
#           ignore entry with a reason and an expiry): promoted and deployed
# The scan results are scripted with `pipeline sandbox findings`.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
py=$(cd "$(dirname "$py")" && pwd)/$(basename "$py")  # the releases run in another folder
config=pipeline.example.yaml
# The demo's files live in the sandbox's own state folder (`sandbox down` removes
# them with it); a folder of their own elsewhere would stop the next `sandbox up`.
state=${PIPELINE_SANDBOX_DIR:-.sandbox}
say() { printf '\n== %s\n' "$*"; }

say "starting the sandbox"
"$py" -m pipeline sandbox up
eval "$("$py" -m pipeline sandbox env)"

say "pipeline validate"
"$py" -m pipeline -f "$config" validate

say "pipeline plan (this repository's own history)"
"$py" -m pipeline -f "$config" plan

say "deploy targets in the sandbox: ECS cluster+service, EKS cluster, Kubernetes Deployment"
"$py" - <<'PY'
import boto3

host = __import__("os").environ["PIPELINE_REGISTRY_HOST"]
ecs = boto3.client("ecs")
ecs.create_cluster(clusterName="demo")
if not [s for s in ecs.describe_services(cluster="demo", services=["backend"])["services"]
        if s["status"] == "ACTIVE"]:
    task = ecs.register_task_definition(
        family="demo-backend",
        containerDefinitions=[
            {"name": "app", "image": f"{host}/demo/backend:initial", "memory": 128,
             "environment": [{"name": "MODE", "value": "demo"}, {"name": "EMPTY", "value": ""}]},
            {"name": "log-router", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2",
             "memory": 64, "essential": False},
        ],
        tags=[{"key": "team", "value": "payments"}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="demo", serviceName="backend", taskDefinition=task, desiredCount=2)
eks = boto3.client("eks")
if "demo-eks" not in eks.list_clusters()["clusters"]:
    eks.create_cluster(name="demo-eks", roleArn="arn:aws:iam::123456789012:role/eks",
                       resourcesVpcConfig={"subnetIds": []})
print("  ECS demo/backend, EKS demo-eks")
PY
kubectl apply -f - <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: backend}}
  template:
    metadata: {labels: {app: backend}}
    spec:
      containers:
        - {name: app, image: "$PIPELINE_REGISTRY_HOST/demo/backend:initial"}
        - {name: envoy, image: "registry.example/envoy:1.30"}
YAML
# A scratch copy of the example with a git history of its own: each release is
# a commit and a tag there. Recreated on every `make demo`, with a nonce in the
# backend, so each demo pushes (and scans) a backend image it has not seen.
project=$state/demo-project
rm -rf "$project"
mkdir -p "$project"
cp -r examples "$project/"
cp "$config" "$project/pipeline.yaml"
printf '%s\n' pipeline-report.json imagedefinitions.json imageDetail.json scan.sarif manifests/ \
  > "$project/.gitignore"
git -C "$project" init -q -b main
# The GitOps target: a repository of its own, inside the project (the config's
# paths stay inside the repository they belong to).
manifests=$project/manifests
mkdir -p "$manifests/examples/deploy/prod"
cp examples/deploy/prod/*.yaml "$manifests/examples/deploy/prod/"
sed -i "s|newName: .*|newName: $PIPELINE_REGISTRY_HOST/demo/frontend|" \
  "$manifests/examples/deploy/prod/kustomization.yaml"
git -C "$manifests" init -q -b main
git -C "$manifests" add -A
git -C "$manifests" -c user.name=demo -c user.email=demo@example.invalid commit -q -m "manifests"
export MANIFEST_REPO="$PWD/$manifests"
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-pipeline demo} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-demo@example.invalid}
export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-pipeline demo} GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-demo@example.invalid}

targets() {
  "$py" - <<'PY'
import boto3

ecs = boto3.client("ecs")
service = ecs.describe_services(cluster="demo", services=["backend"])["services"][0]
task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
for c in task["containerDefinitions"]:
    print(f"  ECS demo/backend {c['name']}: {c['image']}")
PY
  kubectl get deployment backend -o jsonpath='{range .spec.template.spec.containers[*]}  Kubernetes backend {.name}: {.image}{"\n"}{end}'
  git -C "$manifests" log -1 --format='  manifest commit: %s'
}

ecr_tags() {
  "$py" - <<'PY'
import boto3

ecr = boto3.client("ecr")
for repo in ("demo/backend", "demo/frontend"):
    images = ecr.describe_images(repositoryName=repo)["imageDetails"]
    for image in sorted(images, key=lambda i: i["imagePushedAt"]):
        tags = ", ".join(sorted(image.get("imageTags", []))) or "(untagged)"
        print(f"  {repo}@{image['imageDigest'][:19]}...  {tags}")
PY
}

release() {  # release VERSION MESSAGE: change the backend, commit, tag
  echo "# $1 $(date -u +%s%N)" >> "$project/examples/backend/app.sh"
  git -C "$project" add -A
  git -C "$project" commit -q -m "$2"
  git -C "$project" tag -a "v$1" -m "v$1"
}
findings() {  # findings CVE SEVERITY: the next scan of demo/backend finds it
  cat > "$state/demo-findings.json" <<JSON
{"findings": [{"name": "$1", "severity": "$2",
  "uri": "https://nvd.nist.gov/vuln/detail/$1",
  "attributes": [{"key": "package_name", "value": "xz-utils"},
                 {"key": "package_version", "value": "5.6.0"}]}]}
JSON
  "$py" -m pipeline sandbox findings demo/backend --file "$state/demo-findings.json"
}
run() {  # run: plain `pipeline run` in the scratch project; prints and returns its exit code
  local code=0
  (cd "$project" && "$py" -m pipeline run --report "$PWD/../demo-report-$1.json") || code=$?
  echo "  -> exit code $code"
  return "$code"
}

say "release v1.3.0: pipeline run (build, push, scan, gate, promote, deploy)"
release 1.3.0 "backend 1.3.0"
run 1.3.0
say "what the targets run now"
targets
say "what the emulated ECR lists now"
ecr_tags

say "release v1.4.0: its scan finds a CRITICAL vulnerability"
release 1.4.0 "backend 1.4.0"
findings CVE-2024-3094 CRITICAL
code=0
run 1.4.0 || code=$?
if [ "$code" != 3 ]; then
  echo "expected exit code 3 (the gate blocked the release), got $code" >&2
  exit 1
fi
cat <<MSG
  Exit code 3: the severity gate blocked the release (scan.thresholds allows
  no CRITICAL finding). The table above (stderr) lists what to fix. v1.4.0
  went up under its immutable tags only (1.4.0, sha-...): latest, 1.4 and
  main still name v1.3.0, and every target still runs v1.3.0. The report
  ($state/demo-report-1.4.0.json) says "status": "blocked", and the SARIF
  report ($project/scan.sarif) has every finding.
MSG
say "what the targets run now (unchanged)"
targets
say "what the emulated ECR lists now (latest, 1.3 and main did not move)"
ecr_tags

say "release v1.4.1: the fix; its scan finds only CVE-2023-1234, which the config accepts"
release 1.4.1 "backend 1.4.1: upgrade xz-utils"
findings CVE-2023-1234 MEDIUM
run 1.4.1
say "what the targets run now"
targets
say "what the emulated ECR lists now (latest, 1.4 and main moved to v1.4.1)"
ecr_tags

cat <<MSG

The reports are in $state/demo-report-*.json. The sandbox keeps running:
  eval "\$($py -m pipeline sandbox env)"   # use it from this shell (boto3, docker pull ...)
  $py -m pipeline sandbox down            # stop it and remove its state
MSG
