#!/usr/bin/env bash
# Runs the unit tests under Python 3.10, the oldest version pyproject.toml
# accepts, so that promise stays true. Skipped (with a message) only when the
# machine has no python3.10; CI's machines do.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(command -v python3.10 || true)
if [ -z "$py" ]; then
  echo "compat: no python3.10 on this machine; nothing to check" >&2
  exit 0
fi
venv=.venv-py310
if [ ! -x "$venv/bin/python" ]; then
  PYENV_VERSION=3.10 "$py" -m venv "$venv" 2>/dev/null || "$py" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e '.[sandbox,eks]' pytest hypothesis zizmor check-jsonschema
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/unit
