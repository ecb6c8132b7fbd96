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

# The guard under adaptive attack (bench/guard_adaptive.py): PAIR with the embedded model as attacker, target and
# judge on 5 seeded harmful requests of disallowed_content (2 streams x 3 iterations, 64-token answers), once
# directly and once behind examples/guard-local.yaml; attack_success_rate of both with the paired difference,
# queries to first success, and the guard's blocks per rule. Offline; about 10-15 minutes on 2 CPUs. Writes
# bench/results/guard_adaptive.json. More requests or another attack: GUARD_ADAPTIVE_ARGS="--requests 10 --iterations 5".
GUARD_ADAPTIVE_ARGS ?=
.PHONY: guard-adaptive
guard-adaptive: install
	$(BIN)/python bench/guard_adaptive.py $(GUARD_ADAPTIVE_ARGS)

services:
	@bash .ci/services.sh > .services.env

test: install services
	SAFEHUB_TEST_PG="$${SAFEHUB_TEST_PG:-$$(cat .services.env)}" $(BIN)/python -m pytest -q

# Every benchmark in bench/, then bench/RESULTS.md from bench/results/*.json (bench/report.py). Sizes are the scripts'
# defaults, chosen so the whole target fits in 30 minutes on a fresh 2-core machine once `install` is done; each step
# prints its time. A failing step is reported and the others still run; the target fails at the end. Times measured
# on a fresh clone (2026-12-01, 19.4 min in all):
#   engine.py         5,000 trials, 2 scenarios x (safehub, bare loop) x 3 repeats                     2 min
#   grader.py         4 passes over the labeled set x 5 repeats, one core                             0.3 min
#   hub.py            1,000,000-trial store, built once into bench/.data/ (1.6 min) and reused after  2 min first
#   guard.py          3,000 requests per path x 3 rounds, 200 clients                                  1.7 min
#   guard_screens.py  2 s per speed measurement, plus the suite flag rates                             0.2 min
#   peers.py          2,000 prompts at zero latency, 5,000 trials at 200 ms, 3 repeats; installs the peers into
#                     bench/.venvs/ first when missing (pip, npm; 2 min with warm package caches)      10 min
#   resume.py         5,000 trials x 3 repeats: uninterrupted, SIGINT and SIGKILL at 50% + --resume      1.5 min
#   local_model.py    8 prompts x 32 tokens x 4 variants x 3 repeats                                   2 min
#   sandbox.py        200 sandboxed trials and 200 commands one at a time, 100 trials 8 at once         0.7 min
#   guard_effect.py   a stored embedded-model result (the full suites take about an hour) is kept; otherwise the
#                     scripted always-complying model, 2 samples per subcategory ($(BENCH_GUARD_EFFECT_ARGS))   ~1 min
BENCH_GUARD_EFFECT_ARGS ?= --model compliant --limit 2 --concurrency 16
bench: install
	@failed=""; is_kept='import json, sys; sys.exit(json.load(open(sys.argv[1]))["settings"]["model"] == "compliant")'; \
	step() { echo "== $$2 $${*:3}" >&2; started=$$SECONDS; "$$@" || failed="$$failed $$2"; \
	  echo "== $$2: $$((SECONDS - started)) s" >&2; }; \
	step $(BIN)/python bench/engine.py; \
	step $(BIN)/python bench/grader.py; \
	step $(BIN)/python bench/hub.py; \
	step $(BIN)/python bench/guard.py; \
	step $(BIN)/python bench/guard_screens.py; \
	step $(BIN)/python bench/peers.py; \
	step $(BIN)/python bench/resume.py; \
	step $(BIN)/python bench/local_model.py; \
	step $(BIN)/python bench/sandbox.py; \
	if [ -f bench/results/guard_effect.json ] && $(BIN)/python -c "$$is_kept" bench/results/guard_effect.json; then \
	  echo "== bench/guard_effect.py: keeping the stored bench/results/guard_effect.json (delete it to measure again)" >&2; \
	else step $(BIN)/python bench/guard_effect.py $(BENCH_GUARD_EFFECT_ARGS); fi; \
	$(BIN)/python bench/report.py || failed="$$failed bench/report.py"; \
	echo "== make bench: $$SECONDS s in all" >&2; \
	if [ -n "$$failed" ]; then echo "failed:$$failed" >&2; exit 1; fi

clean:
	rm -rf $(VENV) .services.env demo.db demo.db-wal demo.db-shm demo-site guard-demo.db guard-demo.db-wal guard-demo.db-shm
