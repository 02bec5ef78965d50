# `make run`: set up on a fresh machine, index the corpus and open the chat.
# `make test`: set up (incl. Chromium for the browser tests), run all checks and the eval gate.
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: setup run test bench

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# Pinned CPU build of torch first; an unpinned one pulls several GB of CUDA.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

setup: $(BIN)/.installed

run: setup
	$(BIN)/hfa ingest
	$(BIN)/hfa app --port $(PORT)

test: setup
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	HF_HUB_OFFLINE=1 $(BIN)/pytest
	# Bad-input battery (issue 11): fails unless every case ends with an intact index.
	HF_HUB_OFFLINE=1 $(BIN)/python -m eval.reliability
	# The eval gate: fails when a figure of ours drops below eval/thresholds.toml.
	$(BIN)/hfa ingest
	$(BIN)/hfa eval --gate --no-baselines

bench: setup
	$(BIN)/python -m eval.bench
