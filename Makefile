# One command each: `make chat` runs the bot in the terminal, `make test` runs the tests.
# Both create the virtual environment (.venv) and install the project the first time.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: chat test lint eval bench check

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

chat: $(VENV)/.installed
	$(PY) -m bot chat

test: $(VENV)/.installed
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

check: $(VENV)/.installed
	$(PY) -m bot check

# The held-out sets are never tuned on; the bars are the issues' goals.
eval: $(VENV)/.installed
	$(PY) -m bot eval eval/intents_dev.jsonl eval/crisis_dev.jsonl --misses 0
	$(PY) -m bot eval eval/intents_heldout.jsonl eval/crisis_heldout.jsonl --misses 0 \
		--min-accuracy 0.90 --min-crisis-recall 1.0 --max-false-crisis 0.03

bench: $(VENV)/.installed
	$(PY) -m bot bench
