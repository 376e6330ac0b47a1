# `make run` starts the app, `make test` runs every test; both build .venv on first use.
# `make serve WORKERS=n PORT=p`: n app processes behind HAProxy (n: one a core).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
WORKERS ?= 0
ADDRESS ?= 0.0.0.0

.PHONY: run serve test lint format bench browser haproxy mutate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps remember which requirement files are installed; editing one reinstalls.
$(VENV)/.run-deps: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

# The race chart's plotly.js build (package.json), installed by npm when the lock changes;
# without npm the app serves the full bundle of the plotly package instead.
node_modules/.stamp: package.json package-lock.json
	@bash deploy/ensure_plotlyjs.sh $(JS_INSTALL)

run: $(VENV)/.run-deps node_modules/.stamp
	$(BIN)/streamlit run app.py --server.port $(PORT)

# A class: WORKERS app processes (0: one a core) behind HAProxy on PORT; Ctrl-C stops all.
serve: JS_INSTALL = --install
serve: $(VENV)/.run-deps node_modules/.stamp haproxy
	$(BIN)/python deploy/serve.py --workers $(WORKERS) --port $(PORT) --address $(ADDRESS)

# `make serve` and its test need HAProxy; this finds or installs one.
haproxy:
	@bash tests/ensure_haproxy.sh

# Browser tests and PNG export need a Chromium; this finds or installs one.
browser: $(VENV)/.dev-deps
	@bash tests/ensure_chromium.sh $(BIN)

test: JS_INSTALL = --install
test: $(VENV)/.dev-deps node_modules/.stamp browser haproxy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(VENV)/.dev-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-deps
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: JS_INSTALL = --install
bench: $(VENV)/.dev-deps node_modules/.stamp browser haproxy
	$(BIN)/python benchmarks/bench_core.py
	$(BIN)/python benchmarks/bench_app.py
	$(BIN)/python benchmarks/bench_algorithms.py
	$(BIN)/python benchmarks/bench_formula.py
	$(BIN)/python benchmarks/bench_browser.py
	$(BIN)/python benchmarks/bench_maps.py
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_slides.py
	$(BIN)/python benchmarks/bench_first_load.py
	$(BIN)/python benchmarks/bench_class.py

# Mutation testing of the core's stopping rules, divergence messages, formula parser and
# the CSV export (pyproject's [tool.mutmut]); prints the surviving mutants at the end.
mutate: $(VENV)/.dev-deps
	rm -rf mutants
	-$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts mutants .serve-cache node_modules
	rm -f static/plotly*.min.js static/*.part
