# gauss_flows: every command a user or CI needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export JAX_PLATFORMS ?= cpu
export PYTHONHASHSEED := 0
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))

.PHONY: help setup test unit nbval site-check site notebooks bench lock clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

setup: $(VENV)/.installed  ## Create .venv and install the package + tools at pinned versions

test: setup  ## Run every test: unit tests, notebooks under nbval, offline site check
	$(BIN)/pytest tests $(NOTEBOOKS) --nbval --nbval-current-env \
	    --nbval-sanitize-with notebooks/nbval_sanitize.cfg --nbval-cell-timeout=600 -q
	$(PY) scripts/check_site.py

unit: setup  ## Unit tests only
	$(BIN)/pytest tests -q

nbval: setup  ## Notebooks only, against their stored outputs
	$(BIN)/pytest $(NOTEBOOKS) --nbval --nbval-current-env \
	    --nbval-sanitize-with notebooks/nbval_sanitize.cfg --nbval-cell-timeout=600 -q

site-check: setup  ## Build the site content offline (myst --site --strict) and check it
	$(PY) scripts/check_site.py

site: setup  ## Build the course site (HTML; falls back to an offline content build)
	$(PY) scripts/build_site.py

notebooks: setup  ## Re-execute every notebook top to bottom and store its outputs
	$(PY) scripts/run_notebooks.py $(NOTEBOOKS)

bench: setup  ## Run the benchmarks side by side with flowjax; writes benchmarks/results/
	$(PY) benchmarks/run.py

lock: setup  ## Re-pin constraints.txt from the current environment
	$(PY) -m pip freeze --exclude-editable --exclude gauss_flows > constraints.txt

clean:  ## Remove build outputs
	rm -rf _build
