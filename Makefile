# safehub: `make demo` runs the main job, `make test` the tests; both set everything up from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# llama-cpp-python must not be built for the build machine's CPU: the native build crashes in the AMX kernel here.
export CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test bench services clean guard-demo

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[local,anthropic,dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/safehub run --model local --suite quick --max-tokens 96 --db sqlite:///demo.db
	$(BIN)/safehub export --out demo-site --db sqlite:///demo.db
	$(BIN)/safehub hub --db sqlite:///demo.db

# The embedded model on the jailbreaks suite, unguarded and behind the guard; `safehub compare` prints both
# runs' not_unsafe. The guard is stopped at the end, also when a step fails.
GUARD_DEMO_PORT ?= 8787
GUARD_DEMO_LIMIT ?= 2
GUARD_DEMO_DB := sqlite:///guard-demo.db
guard-demo: install
	@set -euo pipefail; \
	$(BIN)/safehub guard serve --config examples/guard-local.yaml --port $(GUARD_DEMO_PORT) --db $(GUARD_DEMO_DB) & guard=$$!; \
	trap 'kill $$guard 2>/dev/null || true; wait $$guard 2>/dev/null || true' EXIT; \
	for _ in $$(seq 150); do \
	  $(BIN)/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$(GUARD_DEMO_PORT)/healthz', timeout=1)" \
	    2>/dev/null && break; kill -0 $$guard 2>/dev/null || { echo "the guard did not start" >&2; exit 1; }; sleep 0.2; \
	done; \
	run() { json=$$($(BIN)/safehub run --model "$$1" --suite jailbreaks --limit $(GUARD_DEMO_LIMIT) --max-tokens 64 \
	  --concurrency 1 --timeout 600 --db $(GUARD_DEMO_DB) --json) || return 1; \
	  $(BIN)/python -c 'import json, sys; print(json.loads(sys.argv[1])["run_id"])' "$$json"; }; \
	echo "unguarded run (the embedded model directly)..."; unguarded=$$(run local); \
	echo "guarded run (the same model behind the guard)..."; guarded=$$(run openai-compat:local@http://127.0.0.1:$(GUARD_DEMO_PORT)/v1); \
	$(BIN)/safehub compare $$unguarded $$guarded --db $(GUARD_DEMO_DB)

services:
	@bash .ci/services.sh > .services.env

test: install services
	SAFEHUB_TEST_PG="$${SAFEHUB_TEST_PG:-$$(cat .services.env)}" $(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/grader.py

clean:
	rm -rf $(VENV) .services.env demo.db demo.db-wal demo.db-shm demo-site guard-demo.db guard-demo.db-wal guard-demo.db-shm
