# Two set-up commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test venv dev clean bench lock lint pictures

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime install: the locked dependencies (exact versions and hashes), then the package itself.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# Development install: runtime plus test and lint dependencies, from their lock file.
$(VENV)/.installed-dev: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(VENV)/.installed $@

# The lock files, after a change of the dependencies in pyproject.toml.
LOCK := $(BIN)/pip-compile --quiet --strip-extras --generate-hashes --allow-unsafe --no-emit-index-url --no-emit-find-links
lock: $(VENV)/.installed-dev
	$(LOCK) --output-file requirements.lock pyproject.toml
	$(LOCK) --extra dev --output-file requirements-dev.lock pyproject.toml

venv: $(VENV)/.installed
dev: $(VENV)/.installed-dev

run: $(VENV)/.installed
	$(BIN)/gateway run

# System programs the tests need (OpenSSH's sshd for the SFTP tests, Debian's Chromium and
# CJK fonts for the console's browser tests): installed with apt-get when missing and run as
# root; under CI a missing one is an error.
test: $(VENV)/.installed-dev
	bash scripts/ensure-system-packages.sh || test "$$CI" != true
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest

# The checks of the code itself: the layers (import-linter), lint and format (ruff), types (mypy).
lint: $(VENV)/.installed-dev
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The pictures in docs/images/ (the console's screenshot), taken in Chromium; not part of `make test`.
pictures: $(VENV)/.installed-dev
	bash scripts/ensure-system-packages.sh
	GATEWAY_PICTURES=1 $(BIN)/python -m pytest tests/browser -k screenshot -q

# Every figure of the performance issue, each beside a baseline measured in the same run (one
# after the other: they share the machine). PYTHONPATH: this tree's code, whatever the venv's
# editable install points at.
bench: $(VENV)/.installed-dev
	bash scripts/ensure-system-packages.sh
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/validate_91.py
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/pipeline_91.py
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/ingest_other.py
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/sftp_pull.py
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/sftp_pull.py --push
	PYTHONPATH=$(CURDIR) $(BIN)/python benchmarks/reports.py

clean:
	rm -rf $(VENV) var
