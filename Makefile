# tracefreeze: local development.
#
#   make venv         .venv with the package (editable) and the test extras
#   make up / down    Kafka + Temporal dev server (python -m tracefreeze.stack), state in .state/
#   make apps-up      tracefreeze worker + bridge in the background
#   make status       what runs, where; the Temporal UI address
#   make test         the test suite (its own isolated stack on free ports; Chromium for the UI test)
#   make demo         venv, stack, apps, then the demo (and the projector's read model of it)
#   make projector    the PostgreSQL read model of the ledger and escalations, caught up
#   make bench        benchmarks on their own stack (< 20 min; BENCH_ARGS=--quick to smoke)
#   make bench-soak   an hour of load held (SOAK_MINUTES=60), RSS and lag sampled
#   make lint / fmt   ruff (check + format)
#   make types        mypy on schemas/, workflows/, activities/, tracefreeze/
#   make clean-state  delete the stack's state (workflow history, Kafka data, logs)
#   make cluster-up / cluster-down / cluster-status   the production shape on one machine:
#                     Temporal server on PostgreSQL, 3 Kafka brokers, apps x2 (docs/operations.md)
#   make cluster-demo the demo against the cluster

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
STACK  := $(PY) -m tracefreeze.stack
STATE  := $(or $(TRACEFREEZE_STATE_DIR),.state)
PYTHON3 ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; \
	done)

.PHONY: help venv up down status apps-up apps-down lint types fmt browser test demo bench bench-soak clean-state \
	projector \
	cluster-build cluster-up cluster-down cluster-status cluster-demo

help:
	@sed -n '3,17p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

venv: $(STAMP)

# Re-installs only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -n "$(PYTHON3)" || { echo "error: no python3 >= 3.11 found (set PYTHON3=/path/to/python3.11+)" >&2; exit 1; }
	@# A venv without a working pip (a first make killed while it was being made) is made anew.
	@$(PY) -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON3) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

up: venv
	$(STACK) up
	$(STACK) record-up

down: venv
	$(STACK) down

status: venv
	@$(STACK) status

apps-up: venv
	$(STACK) apps-up

apps-down: venv
	$(STACK) apps-down

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: venv
	$(VENV)/bin/mypy

fmt: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Debian's chromium + chromium-driver for tests/ui (installed when root, else says what to install).
browser:
	deploy/local/browser.sh

# The venv's bin/ first on PATH: the tests find `temporal` and `temporal-test-server` there.
test: venv browser
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m pytest -q

demo: venv browser
	$(STACK) up
	$(STACK) record-up
	$(STACK) apps-up
	$(PY) -m tracefreeze.demo
	-$(PROJECTOR)

# The read model (tracefreeze/downstream/projector.py) in the record store's PostgreSQL (make
# up), or TRACEFREEZE_READ_DSN: reads the events its group has not read yet, then the tables.
PROJECTOR := $(PY) -m tracefreeze.downstream.projector --until-caught-up --show

projector: venv
	$(PROJECTOR)

# Never part of `make test`. Starts (and stops) its own stack on free ports; results in
# bench/results/. pyinstrument (not a project dependency) profiles a missed target.
bench: venv
	@$(PY) -c 'import pyinstrument' 2>/dev/null || $(PY) -m pip install --quiet pyinstrument
	$(PY) -m bench.run $(BENCH_ARGS)

# Load held over time (not part of `make bench`): answers at half the drain rate with
# deadlines firing alongside, RSS and consumer lag sampled every minute, exact counts at the end.
SOAK_MINUTES ?= 60
bench-soak: venv
	$(PY) -m bench.run --only soak --soak-minutes $(SOAK_MINUTES) $(BENCH_ARGS)

# Stops the stack first: deleting the files under a running broker would corrupt it.
# The Kafka jars in $(STATE)/cache are kept (set TRACEFREEZE_CACHE_DIR to move them).
clean-state: venv
	$(STACK) down
	@if [ -d "$(STATE)" ]; then \
		find "$(STATE)" -mindepth 1 -maxdepth 1 ! -name cache -exec rm -rf {} +; \
		echo "removed the state in $(STATE) (kept $(STATE)/cache)"; \
	fi

# The production shape on one machine (python -m tracefreeze.stack.cluster); state in
# $(CLUSTER) (TRACEFREEZE_CLUSTER_DIR), the Temporal build cached beside the Kafka jars.
CLUSTER := $(or $(TRACEFREEZE_CLUSTER_DIR),.state/cluster)

cluster-build: venv
	$(PY) -m tracefreeze.stack.cluster build

cluster-up: venv
	$(PY) -m tracefreeze.stack.cluster up

cluster-down: venv
	$(PY) -m tracefreeze.stack.cluster down

cluster-status: venv
	@$(PY) -m tracefreeze.stack.cluster status

cluster-demo: venv browser
	$(PY) -m tracefreeze.stack.cluster up
	set -a && . "$(CLUSTER)/cluster.env" && set +a && $(PY) -m tracefreeze.demo
