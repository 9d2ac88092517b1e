# Two commands are all a user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -e '.[dev]'
	@$(BIN)/python -m compileall -q synapse_sdk >/dev/null
	@touch $(STAMP)

demo: install
	@bash scripts/demo.sh

test: install
	$(BIN)/ruff check synapse_sdk tests bench scripts
	$(BIN)/ruff format --check synapse_sdk tests bench scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check synapse_sdk tests bench scripts
	$(BIN)/ruff format --check synapse_sdk tests bench scripts

# Every benchmark runs and prints its ratio and target; the exit status says whether all were met.
bench: install
	@missed=""; for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || missed="$$missed $$b"; echo; done; \
	if [ -n "$$missed" ]; then echo "targets missed:$$missed"; exit 1; fi; echo "all targets met"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .synapse-demo
