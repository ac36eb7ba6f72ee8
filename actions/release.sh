#!/usr/bin/env bash
# Cut a release: the next semver tag on HEAD (with --push, pushed to origin),
# then the pipeline run for it. A thin wrapper of `pipeline release`.
#
#   actions/release.sh patch|minor|major [options]
#   actions/release.sh --bump patch|minor|major [options]
#
# Which pipeline runs: $PIPELINE if set, else `pipeline` on PATH, else
# `python3 -m pipeline`.
set -euo pipefail

usage() {
  cat >&2 <<'EOF'
usage: release.sh patch|minor|major [--push] [--no-run] [--allow-dirty] [--allow-branch]
                  [--force] [--dry-run] [--image NAME]... [-f FILE] [--report FILE]

  --push          push the tag to origin before the run
  --no-run        tag (and with --push, push) only: no run (when CI builds pushed tags)
  --allow-dirty   release even with uncommitted changes to tracked files
  --allow-branch  release from a branch other than the default one
  --force         for the run: deploy even a commit older than the running one
  --dry-run       print the tag that would be made; change nothing
  --image NAME    the image whose tag_prefix to release (images with different prefixes)
  -f FILE         the config file (default pipeline.yaml)
  --report FILE   for the run: where to write the JSON report
EOF
  exit "${1:-2}"
}

die() {
  echo "release.sh: $1" >&2
  usage 2
}

bump=""
args=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    patch | minor | major)
      [ -z "$bump" ] || die "the bump is given twice"
      bump="$1"
      ;;
    --bump)
      [ "$#" -ge 2 ] || die "--bump needs patch, minor or major"
      [ -z "$bump" ] || die "the bump is given twice"
      case "$2" in patch | minor | major) bump="$2" ;; *) die "unknown bump '$2'" ;; esac
      shift
      ;;
    --push | --no-run | --allow-dirty | --allow-branch | --force | --dry-run)
      args+=("$1")
      ;;
    --image | -f | --file | --report)
      [ "$#" -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"
      args+=("$1" "$2")
      shift
      ;;
    -h | --help)
      usage 0
      ;;
    *)
      die "unknown argument '$1'"
      ;;
  esac
  shift
done
[ -n "$bump" ] || die "say which part to raise: patch, minor or major"

if [ -n "${PIPELINE:-}" ]; then
  command=("$PIPELINE")
elif command -v pipeline >/dev/null 2>&1; then
  command=(pipeline)
else
  command=(python3 -m pipeline)
fi
exec "${command[@]}" release --bump "$bump" ${args[@]+"${args[@]}"}
