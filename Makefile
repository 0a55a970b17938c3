# `make test` and `make demo` work on a fresh clone with nothing installed but Python ≥ 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: test demo lint typecheck unit container-test clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "priosync needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy --explicit-package-bases tests scripts

unit: $(STAMP)
	scripts/ensure-chromium.sh
	scripts/ensure-postgres.sh
	$(BIN)/pytest

test: lint typecheck unit

# Builds the image on a Debian base made with debootstrap and runs it in a Docker engine the
# test starts (scripts/ensure-docker.sh installs docker.io and debootstrap when missing).
container-test: $(STAMP)
	scripts/ensure-docker.sh
	$(BIN)/pytest -m container tests/container

demo: $(STAMP)
	$(BIN)/priosync demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
