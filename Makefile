# Two commands are all a user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install install-browser demo test lint bench clean

install: $(STAMP)

# PyTorch's CPU wheel may lie in pip's find-links folder (see /work/shared/NOTES.md). uv reads no pip
# config: pass that folder as UV_FIND_LINKS and hold torch to the wheel's version, or uv downloads a
# multi-GB CUDA build. Without such a wheel, torch comes from the index as usual.
FIND_LINKS  := $(or $(PIP_FIND_LINKS),$(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null))
TORCH_WHEEL := $(firstword $(wildcard $(addsuffix /torch-2.13.0+cpu-*.whl,$(FIND_LINKS))))
TORCH_PIN   := $(if $(TORCH_WHEEL),--constraint $(VENV)/torch-cpu.txt)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install -q --disable-pip-version-check uv
	@$(if $(TORCH_WHEEL),echo 'torch==2.13.0' > $(VENV)/torch-cpu.txt,true)
	$(if $(FIND_LINKS),UV_FIND_LINKS="$(FIND_LINKS)") $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python \
		$(TORCH_PIN) -e '.[dev]'
	@$(BIN)/python -m compileall -q synapse_sdk >/dev/null
	@touch $(STAMP)

# The browser tests (Playwright) drive Debian's Chromium; Playwright never downloads a browser here.
CHROMIUM := /usr/bin/chromium
AS_ROOT  := $(if $(filter 0,$(shell id -u)),,sudo )

install-browser:
	@test -x $(CHROMIUM) || { $(AS_ROOT)apt-get update -q && $(AS_ROOT)apt-get install -y -q chromium; }

demo: install
	@bash scripts/demo.sh

test: install install-browser
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
