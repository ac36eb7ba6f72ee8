#!/usr/bin/env bash
# Prints the docker client to use in scripts: Debian's (it can run BuildKit
# builds itself) when installed, else the first one on PATH.
set -euo pipefail
if [ -x /usr/bin/docker ]; then echo /usr/bin/docker
elif command -v docker >/dev/null 2>&1; then command -v docker
else echo "docker-cli: no docker client found" >&2; exit 1; fi
