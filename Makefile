# odibi-dbx — the two commands of the quick start:
#   make demo   set up .venv and run the sample bronze -> silver -> gold project (Pandas engine)
#   make test   set up everything the tests need and run every test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
CONSTRAINTS := requirements/constraints.txt

.PHONY: help demo test lint clean
help:  ## list targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# core + Delta on the Pandas engine: all the demo needs
$(VENV)/.demo-ready: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) install -q -c $(CONSTRAINTS) -e ".[delta]"
	touch $@

# every extra the tests exercise (Spark, Azure, Databricks, notebooks)
$(VENV)/.test-ready: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) install -q -c $(CONSTRAINTS) -e ".[delta,spark,azure,databricks,dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@ $(VENV)/.demo-ready

demo: $(VENV)/.demo-ready  ## run the sample project on the Pandas engine
	$(BIN)/odibi-dbx run examples/sales/project.yaml

# test-deps collects what each make/*.mk adds (Spark jars, Azurite, ...)
TEST_DEPS := $(VENV)/.test-ready
-include make/*.mk

test: $(TEST_DEPS)  ## set up and run every test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.test-ready  ## ruff, import layers (lint-imports), types (mypy + pydantic plugin); config in pyproject.toml
	$(BIN)/ruff check odibi_dbx tests bench
	$(BIN)/ruff format --check odibi_dbx tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

clean:  ## remove the venv and build outputs
	rm -rf $(VENV) build dist .pytest_cache examples/*/output
