#!/usr/bin/env bash
# `make demo`: the main job end to end on the local sandbox, no AWS account needed.
# Starts the sandbox (moto + the registry + a Kubernetes API), then validates,
# plans, builds and pushes the two example images of pipeline.example.yaml,
# and deploys them: backend to an ECS service and a Kubernetes Deployment
# (through an emulated EKS cluster), frontend's digest into a kustomization in
# a scratch git repository. Run it twice: the second run reuses both images
# and finds every target already on them.
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
manifests=.sandbox/demo-manifests
if [ ! -d "$manifests/.git" ]; then
  mkdir -p "$manifests/examples/deploy/prod"
  cp examples/deploy/prod/*.yaml "$manifests/examples/deploy/prod/"
  sed -i "s|newName: .*|newName: $PIPELINE_REGISTRY_HOST/demo/frontend|" \
    "$manifests/examples/deploy/prod/kustomization.yaml"
  git -C "$manifests" init -q -b main
  git -C "$manifests" add -A
  git -C "$manifests" -c user.name=demo -c user.email=demo@example.invalid commit -q -m "manifests"
fi
export MANIFEST_REPO="$PWD/$manifests"
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-pipeline demo} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-demo@example.invalid}
export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-pipeline demo} GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-demo@example.invalid}

say "pipeline run --skip scan,gate,promote (build, push, deploy)"
"$py" -m pipeline -f "$config" run --skip scan,gate,promote --report .sandbox/demo-report.json

say "what the targets run now"
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
