# Two commands: `make run` and `make test`. Both set up .venv first, once.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint typecheck clean

MODEL := .data/models/all-MiniLM-L6-v2.onnx

setup: $(STAMP) $(MODEL)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# The embedding model is exported to ONNX once, here, so the service never imports torch.
$(MODEL): $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/ro-assistant embedder export

run: setup
	$(BIN)/ro-assistant db start
	$(BIN)/ro-assistant db migrate
	$(BIN)/ro-assistant keys generate --if-missing
	$(BIN)/ro-assistant demo load
	$(BIN)/ro-assistant db index-shops
	$(BIN)/ro-assistant serve --host 127.0.0.1 --port 8000

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

clean:
	-$(BIN)/ro-assistant db stop
	rm -rf $(VENV) .data .mypy_cache .pytest_cache .ruff_cache
