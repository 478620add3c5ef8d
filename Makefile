# Two set-up commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test venv dev clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Runtime install: the package and its dependencies.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# Development install: runtime plus test dependencies.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

venv: $(VENV)/.installed
dev: $(VENV)/.installed-dev

run: $(VENV)/.installed
	$(BIN)/gateway run

# System programs the tests need (OpenSSH's sshd for the SFTP tests, Debian's Chromium and
# CJK fonts for the console's browser tests): installed with apt-get when missing and run as
# root; under CI a missing one is an error.
test: $(VENV)/.installed-dev
	bash scripts/ensure-system-packages.sh || test "$$CI" != true
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-dev
	bash scripts/ensure-system-packages.sh
	$(BIN)/python benchmarks/validate_91.py
	$(BIN)/python benchmarks/pipeline_91.py
	$(BIN)/python benchmarks/sftp_pull.py

clean:
	rm -rf $(VENV) var
