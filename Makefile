# Ventanilla: two commands.
#   make run    set up what is missing, build the index, train if needed, start everything
#   make test   set up what is missing and run the whole test suite
# Everything is idempotent: a second run with nothing changed skips straight to the point.

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
VENV_RASA := .venv-rasa
PY        := $(VENV)/bin/python
RASA_PY   := $(VENV_RASA)/bin/python
PIP_FLAGS := --disable-pip-version-check --no-input

.PHONY: help setup run test index train validate kb-validate clean browser npm eval-e2e

help:
	@echo "make run    - start Ventanilla locally (SQLite, local files, no external service)"
	@echo "make test   - run the whole test suite"
	@echo "make index  - rebuild the knowledge-base index"
	@echo "make train  - train the Rasa model if training data or config changed"
	@echo "make eval-e2e - the knowledge-base eval sets through the real conversation (bench/RESULTS.md)"

# --- environments -------------------------------------------------------------

$(VENV)/.installed: requirements/app.txt pyproject.toml
	@echo "==> Creating $(VENV) (Python 3.11: actions, knowledge base, backend, tests)"
	@test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	@$(PY) -c 'import sys; assert sys.version_info[:2] == (3, 11), "the application needs Python 3.11"'
	$(PY) -m pip install $(PIP_FLAGS) -q -r requirements/app.txt
	$(PY) -m pip install $(PIP_FLAGS) -q --no-deps --no-build-isolation -e .
	@touch $@

$(VENV_RASA)/.installed: requirements/rasa.txt
	@echo "==> Creating $(VENV_RASA) (Python 3.10: Rasa Open Source 3.6.21 + spaCy es_core_news_sm)"
	@test -x $(RASA_PY) || "$$(launcher/find-python310.sh)" -m venv $(VENV_RASA)
	$(RASA_PY) -m pip install $(PIP_FLAGS) -q 'setuptools<70' wheel
	$(RASA_PY) -m pip install $(PIP_FLAGS) -q -r requirements/rasa.txt
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

test: setup browser
	$(PY) -m pytest

# Knowledge-base eval sets sent through the conversation (REST, test model, action server);
# EVAL_E2E_ARGS="--config config.yml" for the shipped model, "--misses" to list every miss.
eval-e2e: setup
	$(PY) -m bench.e2e_answers $(EVAL_E2E_ARGS)

clean:
	rm -rf var models
