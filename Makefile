# capy: the README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TOOLS  := test/harness/tools/build.sh

# Code that ships and code that tests it; both are held to the same gates.
PY_SOURCES := capy providers bootstrap test

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

.PHONY: venv
venv: $(STAMP) ## create the Python virtualenv with capy and its dev tools

# Debian packages the tests use: cloud-init's `cloud-init schema` validates rendered user data.
.PHONY: system-deps
system-deps: ## install the Debian packages the tests need (when missing)
	@command -v cloud-init >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cloud-init; }

.PHONY: tools
tools: ## build the pinned upstream tools into the cache (nothing when cached)
	@bash $(TOOLS)

.PHONY: lint
lint: $(STAMP) ## ruff check, ruff format --check, mypy --strict
	$(BIN)/ruff check $(PY_SOURCES)
	$(BIN)/ruff format --check $(PY_SOURCES)
	$(BIN)/mypy

.PHONY: crds
crds: $(STAMP) ## regenerate config/crd from the pydantic models (a test fails when stale)
	$(BIN)/capy crds

.PHONY: test
test: lint system-deps tools ## the gates, then every test (unit and integration)
	$(BIN)/pytest -ra

.PHONY: unit
unit: $(STAMP) ## unit tests only
	$(BIN)/pytest -ra test/unit

.PHONY: demo
demo: $(STAMP) tools ## start the local management plane (capy dev up)
	$(BIN)/capy dev up

.PHONY: down
down: $(STAMP) ## stop what `make demo` started
	$(BIN)/capy dev down

.PHONY: clean
clean: down ## stop the dev environment and remove the virtualenv
	rm -rf $(VENV) *.egg-info
