# The two commands of the README: `make demo` and `make test`. Both set up what they need first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench dovecot

# A virtual environment of its own with lateclaim installed (editable) and the development tools.
$(BIN)/lateclaim: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/lateclaim
	$(BIN)/lateclaim demo

# The IMAP tests start a real Dovecot of their own on 127.0.0.1 (not the system one).
dovecot:
	@scripts/ensure-dovecot

test: $(BIN)/lateclaim dovecot
	$(BIN)/pytest

lint: $(BIN)/lateclaim
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(BIN)/lateclaim dovecot
	$(BIN)/python bench/run_all.py
