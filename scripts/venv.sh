#!/usr/bin/env bash
# Creates the project's virtualenv and installs the package with its test tools.
set -euo pipefail
venv=${1:-.venv}
python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "venv: need python3 (3.10 or newer)" >&2; exit 1; }
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || { echo "venv: python3 is older than 3.10" >&2; exit 1; }
if ! "$python" -m venv "$venv" 2>/dev/null; then
  # Debian/Ubuntu ship venv separately.
  if command -v apt-get >/dev/null; then
    apt-get install -y -qq python3-venv >/dev/null || sudo apt-get install -y -qq python3-venv
    "$python" -m venv "$venv"
  else
    echo "venv: '$python -m venv' failed; install your distribution's venv package" >&2; exit 1
  fi
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip 2>/dev/null || true
# Until 0.1.0 the distribution was called `pipeline` (a name PyPI gives to another
# project): a venv made then still holds it, and it would shadow the console script.
"$venv/bin/python" -m pip uninstall -q -y --disable-pip-version-check pipeline 2>/dev/null || true
rm -rf pipeline.egg-info  # its metadata, left in the source tree by the editable install
"$venv/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]'
