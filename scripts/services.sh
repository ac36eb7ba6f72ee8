#!/usr/bin/env bash
# Installs and starts what the integration tests and the demo need, so that
# `make test` and `make demo` work on a fresh Debian/Ubuntu machine:
#   - dockerd (docker.io), the distribution registry (docker-registry), a
#     static busybox (busybox-static) and tmux (the terminal tests read what a
#     person sees in a tmux pane), from the distribution's packages;
#   - a running Docker engine (started here when none answers);
#   - the local base image local/busybox:1 (nothing can be pulled here);
#   - a check for kubectl, which the Kubernetes API tests run (no distribution
#     package is recent enough, so it is not installed here: its absence is
#     reported now and fails those tests with the same hint).
# Idempotent: anything already present is left alone. Fails loudly, never skips.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log() { printf 'services: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root (or sudo) to run: $*"; fi
}

need=()
command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ] || need+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
if [ ${#need[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    die "missing ${need[*]}: install the Docker engine, the CNCF distribution registry binary
    (as docker-registry), a static busybox at /bin/busybox and tmux, then re-run"
  fi
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y -qq "${need[@]}" >/tmp/pipeline-apt.log 2>&1; then
    as_root apt-get update -qq >>/tmp/pipeline-apt.log 2>&1 || true
    as_root apt-get install -y -qq "${need[@]}" >>/tmp/pipeline-apt.log 2>&1 \
      || { tail -20 /tmp/pipeline-apt.log >&2; die "apt-get install ${need[*]} failed"; }
  fi
fi

docker_cli=$("$here/docker-cli.sh")
if ! "$docker_cli" info >/dev/null 2>&1; then
  dockerd_bin=$(command -v dockerd || echo /usr/sbin/dockerd)
  log "starting $dockerd_bin (log: /tmp/pipeline-dockerd.log)"
  as_root bash -c "nohup '$dockerd_bin' >/tmp/pipeline-dockerd.log 2>&1 &"
  for _ in $(seq 1 120); do
    "$docker_cli" info >/dev/null 2>&1 && break
    sleep 0.5
  done
  "$docker_cli" info >/dev/null 2>&1 || {
    tail -30 /tmp/pipeline-dockerd.log >&2 || true
    die "dockerd did not answer within 60 s"
  }
fi
log "docker engine $("$docker_cli" version --format '{{.Server.Version}}') is up"
"$here/base-image.sh"
if command -v kubectl >/dev/null 2>&1; then
  log "kubectl $(kubectl version --client 2>/dev/null | sed -n 's/^Client Version: //p') found"
else
  log "WARNING: kubectl is not on PATH; the Kubernetes API tests (tests/integration/sandbox/kube)
    will fail until kubectl v1.27 or later is installed: https://kubernetes.io/docs/tasks/tools/"
fi
