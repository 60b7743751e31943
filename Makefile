# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Every step is idempotent (stamp files) and every download is pinned.

# The newest CPython that actually runs (pyenv shims exist for versions that are not selected).
PYTHON ?= $(firstword $(foreach candidate,python3.13 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python3.13) python3.12 python3,\
	$(shell $(candidate) -c 'import sys; print(sys.executable)' 2>/dev/null)))
# BottleCRM (PyPI django-crm) needs Python 3.12 or newer, in a virtualenv of its own.
PYTHON312 ?= $(firstword $(foreach candidate,python3.12 $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12),\
	$(shell $(candidate) -c 'import sys; print(sys.executable)' 2>/dev/null)))
BOTTLECRM := build/bottlecrm
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
WASM_PLATFORM := pyemscripten_2026_0_wasm32
CHROMIUM := /usr/bin/chromium

.PHONY: demo test unit lint runtime deps test-deps chromium redis bottlecrm clean

demo: deps runtime
	$(PY) -m proxy --demo --port $(PORT)

test: lint test-deps runtime chromium redis bottlecrm
	$(PY) -m pytest

lint: test-deps
	$(PY) -m ruff check panel proxy tests
	$(PY) -m ruff format --check panel proxy tests
	$(PY) -m mypy

unit: test-deps redis bottlecrm
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

redis:
	@command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@command -v redis-server >/dev/null

# A live BottleCRM for the adapter tests: its own venv, and a migrated SQLite database the tests copy.
bottlecrm: $(BOTTLECRM)/template.sqlite3

$(BOTTLECRM)/venv/.stamp: tests/live/bottlecrm-requirements.txt
	@test -n "$(PYTHON312)" || { echo "BottleCRM needs Python 3.12+ (pyenv install 3.12)"; exit 1; }
	rm -rf $(BOTTLECRM)/venv
	$(PYTHON312) -m venv $(BOTTLECRM)/venv
	$(BOTTLECRM)/venv/bin/python -m pip install --quiet -r tests/live/bottlecrm-requirements.txt
	touch $@

$(BOTTLECRM)/template.sqlite3: $(BOTTLECRM)/venv/.stamp tests/live/bottlecrm_settings.py
	rm -f $@.tmp
	cd $(BOTTLECRM) && BOTTLECRM_DB=$(CURDIR)/$@.tmp PYTHONPATH=$(CURDIR)/tests/live \
	    SECRET_KEY=migrate-only-$$$$-0123456789abcdefghijklmnop DEBUG=True ENV_TYPE=dev \
	    DJANGO_SETTINGS_MODULE=bottlecrm_settings venv/bin/django-admin migrate --verbosity 0
	mv $@.tmp $@

clean:
	rm -rf build node_modules $(VENV)
