# The two commands a new user types: `make demo` and `make test`.
# Each installs what it needs by itself: a virtualenv, system packages
# (docker.io, docker-registry, busybox-static, tmux) and running services.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: venv services lint lint-actions unit integration test compat demo bench schema clean

$(STAMP): pyproject.toml
	scripts/venv.sh $(VENV)
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

services: venv
	scripts/services.sh

lint: venv
	$(PY) -m ruff check pipeline tests bench
	$(PY) -m ruff format --check pipeline tests bench
	$(PY) -m mypy
	$(PY) -m pipeline schema | diff -q - docs/pipeline.schema.json >/dev/null \
	  || { echo "docs/pipeline.schema.json is stale: run make schema" >&2; exit 1; }
	$(MAKE) --no-print-directory lint-actions

# The GitHub action and the example workflows: zizmor's audits (offline: no
# GitHub API), GitHub's schemas as check-jsonschema vendors them, shell syntax.
WORKFLOWS := $(wildcard docs/workflows/*.yml)
lint-actions: venv
	$(VENV)/bin/zizmor --offline --quiet --persona pedantic actions/github/action.yml $(WORKFLOWS)
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-actions actions/github/action.yml
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOWS)
	bash -n actions/release.sh

unit: venv
	$(PY) -m pytest -q tests/unit

integration: services
	$(PY) -m pytest -q tests/integration

test: lint services
	$(PY) -m pytest -q -p no:cacheprovider tests

# The unit tests under the oldest Python we support, when the machine has it.
compat:
	scripts/compat.sh

demo: services
	scripts/demo.sh

bench: services
	$(PY) bench/run.py

schema: venv
	$(PY) -m pipeline schema > docs/pipeline.schema.json

clean:
	-$(PY) -m pipeline sandbox down 2>/dev/null
	rm -rf $(VENV) .sandbox .pytest_cache .mypy_cache .ruff_cache
