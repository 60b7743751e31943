# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Every step is idempotent (stamp files) and every download is pinned.

# The newest CPython that actually runs (pyenv shims exist for versions that are not selected).
PYTHON ?= $(firstword $(foreach candidate,python3.13 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) python3.12 python3,\
	$(shell $(candidate) -c 'import sys; print(sys.executable)' 2>/dev/null)))
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
WASM_PLATFORM := pyemscripten_2026_0_wasm32
CHROMIUM := /usr/bin/chromium

.PHONY: demo test unit lint runtime deps test-deps chromium clean

demo: deps runtime
	$(PY) -m proxy --demo --port $(PORT)

test: lint test-deps runtime chromium
	$(PY) -m pytest

lint: test-deps
	$(PY) -m ruff check panel proxy tests
	$(PY) -m ruff format --check panel proxy tests
	$(PY) -m mypy

unit: test-deps
	$(PY) -m pytest tests/unit tests/proxy

runtime: build/runtime/DIGEST

deps: $(VENV)/.deps

test-deps: $(VENV)/.test-deps

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.deps: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-deps: requirements-test.txt $(VENV)/.deps
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

build/wheels/.stamp: panel/browser-wheels.txt | $(VENV)/bin/python
	rm -rf build/wheels
	$(PY) -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
	    --platform $(WASM_PLATFORM) --python-version 3.14 --implementation cp \
	    -r panel/browser-wheels.txt -d build/wheels
	touch $@

build/runtime/DIGEST: node_modules/.package-lock.json build/wheels/.stamp proxy/runtime_bundle.py | $(VENV)/bin/python
	$(PY) -m proxy.runtime_bundle --node-modules node_modules --wheels build/wheels --out build/runtime

chromium:
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM)

clean:
	rm -rf build node_modules $(VENV)
