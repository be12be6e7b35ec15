# The two commands of the README: `make demo` and `make test`. Both set up what they need first, and only that:
# the demo needs lateclaim alone (a runtime install, quick), the tests add the developer tools and the
# system packages they drive (Dovecot, Chromium, tmux).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench test-tools

# A virtual environment of its own with lateclaim installed (editable), without the developer tools.
$(BIN)/lateclaim: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e .
	touch $@

# The developer tools on top (pytest, ruff, mypy, the test SMTP server, apprise for the push tests).
$(VENV)/.dev: $(BIN)/lateclaim
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/lateclaim
	$(BIN)/lateclaim demo

# The IMAP tests start a real Dovecot of their own on 127.0.0.1 (not the system one); the report and terminal
# tests drive Chromium and tmux. Each is installed from Debian's packages when missing.
test-tools:
	@scripts/ensure-test-tools

test: $(VENV)/.dev test-tools
	$(BIN)/pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(VENV)/.dev test-tools
	$(BIN)/python bench/run_all.py
