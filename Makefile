# Ventanilla: two commands.
#   make run    set up what is missing, build the index, train if needed, start everything
#   make test   set up what is missing and run the whole test suite
# For daily work: `make check` (lint, format, types; < 1 min) and `make test-fast` (unit tests
# that need no trained model and no server; < 2 min).
# Everything is idempotent: a second run with nothing changed skips straight to the point.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
VENV_RASA := .venv-rasa
PY        := $(VENV)/bin/python
RASA_PY   := $(VENV_RASA)/bin/python
PIP_FLAGS := --disable-pip-version-check --no-input

# pip-compile's flags for the hashed lock files (`make lock`). Extras stay in the lock
# (`smart-open[http]==...`): with them stripped, pip in --require-hashes mode fetched the
# newest release for a dependency's extra (`weasel` -> `smart-open[http]`) and refused it.
LOCK_FLAGS := --generate-hashes --allow-unsafe --no-strip-extras --no-emit-index-url --no-emit-find-links --quiet
PIP_TOOLS  := pip-tools==7.6.2
# Unit tests: no trained model, no Rasa/action server, no PostgreSQL, no browser.
FAST_MARKERS := not slow and not e2e and not postgres and not browser

.PHONY: help setup run test test-assets test-fast check lock index train validate kb-validate clean browser npm nginx promtool eval-e2e

help:
	@echo "make run    - start Ventanilla locally (SQLite, local files, no external service)"
	@echo "make test   - run the whole test suite"
	@echo "make test-fast - unit tests only (no trained model, no server): for daily work"
	@echo "make check  - ruff (lint + format), mypy and ESLint"
	@echo "make lock   - regenerate the hashed lock files from pyproject.toml and requirements/rasa.in"
	@echo "make index  - rebuild the knowledge-base index"
	@echo "make train  - train the Rasa model if training data or config changed"
	@echo "make eval-e2e - the knowledge-base eval sets through the real conversation (bench/RESULTS.md)"

# --- environments -------------------------------------------------------------

$(VENV)/.installed: requirements/app.txt pyproject.toml
	@echo "==> Creating $(VENV) (Python 3.11: actions, knowledge base, backend, tests)"
	@test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 11), "the application needs Python 3.11"'
	$(PY) -m pip install $(PIP_FLAGS) -q --require-hashes -r requirements/app.txt
	$(PY) -m pip install $(PIP_FLAGS) -q --no-deps --no-build-isolation -e .
	@touch $@

$(VENV_RASA)/.installed: requirements/rasa.txt
	@echo "==> Creating $(VENV_RASA) (Python 3.10: Rasa Open Source 3.6.21 + spaCy es_core_news_sm)"
	@test -x $(RASA_PY) || "$$(launcher/find-python310.sh)" -m venv $(VENV_RASA)
	$(RASA_PY) -m pip install $(PIP_FLAGS) -q 'setuptools<70' wheel
	$(RASA_PY) -m pip install $(PIP_FLAGS) -q --require-hashes -r requirements/rasa.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "==> Installing the web widget's packages from npm"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

npm: node_modules/.installed

setup: $(VENV)/.installed $(VENV_RASA)/.installed node_modules/.installed

# --- knowledge base and model ------------------------------------------------------

validate: $(VENV)/.installed
	$(VENV)/bin/kb validate

index: $(VENV)/.installed
	$(VENV)/bin/kb build

train: setup
	$(PY) -m launcher.train

# --- the two commands --------------------------------------------------------------

run: setup
	$(PY) -m launcher.run

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "==> Installing Debian's Chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's nginx with its njs module, for the scale-out tests (run as a child process,
# never as the system service).
nginx:
	@test -e /usr/lib/nginx/modules/ngx_http_js_module.so || { \
	  echo "==> Installing Debian's nginx + njs for the scale-out tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx libnginx-mod-http-js >/dev/null; }

# Debian's prometheus package for promtool: the alert rules, their unit tests and the
# Grafana dashboard's queries are checked offline (tests/analytics/test_metrics_rules.py).
# Only promtool is used; the packaged daemon is not needed.
promtool:
	@command -v promtool >/dev/null 2>&1 || { \
	  echo "==> Installing Debian's prometheus (promtool) for the alert-rule tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }

# The test model and the test index, built at once (launcher/test_assets.py): the fixtures
# then find both cached.
test-assets: setup
	$(PY) -m launcher.test_assets

test: setup browser nginx promtool test-assets
	$(PY) -m pytest

test-fast: $(VENV)/.installed
	$(PY) -m pytest -q -m "$(FAST_MARKERS)" -p no:cacheprovider

# --- code checks and dependency locks ----------------------------------------------------

# connectors/ run inside Rasa's Python 3.10 environment: mypy checks them with that interpreter.
check: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy actions backend knowledge_base textnorm
	$(VENV)/bin/mypy --python-executable $(RASA_PY) --python-version 3.10 connectors textnorm
	npx --no-install eslint connectors/webchat/widget backend/console/static

# Resolves each environment with its own Python (pip-tools in throwaway venvs under var/).
lock:
	@test -x var/lock-py311/bin/pip-compile || { python3.11 -m venv var/lock-py311 && \
	  var/lock-py311/bin/pip install $(PIP_FLAGS) -q $(PIP_TOOLS); }
	@test -x var/lock-py310/bin/pip-compile || { "$$(launcher/find-python310.sh)" -m venv var/lock-py310 && \
	  var/lock-py310/bin/pip install $(PIP_FLAGS) -q $(PIP_TOOLS); }
	var/lock-py311/bin/pip-compile $(LOCK_FLAGS) --extra dev -o requirements/app.txt pyproject.toml
	var/lock-py310/bin/pip-compile $(LOCK_FLAGS) -o requirements/rasa.txt requirements/rasa.in

# Knowledge-base eval sets sent through the conversation (REST, test model, action server);
# EVAL_E2E_ARGS="--config config.yml" for the shipped model, "--misses" to list every miss.
eval-e2e: setup
	$(PY) -m bench.e2e_answers $(EVAL_E2E_ARGS)

clean:
	rm -rf var models
