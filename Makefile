# gauss_flows: every command a user or CI needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export JAX_PLATFORMS ?= cpu
export PYTHONHASHSEED := 0
NOTEBOOKS := $(sort $(wildcard notebooks/*.ipynb))
PORT ?= 8000
# train_flow's progress bar stays off wherever outputs are stored or compared (tests,
# nbval, notebooks, benchmarks); `make lab` leaves it on (gauss_flows/training/train.py).
QUIET := GAUSS_FLOWS_PROGRESS=0
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: help setup test unit nbval site-check site serve lab student student-lab notebooks bench lock clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

setup: $(VENV)/.installed  ## Create .venv and install the package + tools at pinned versions

test: setup  ## Run every test on 2 workers: unit tests (lint, lab, serve, student copies), nbval, site check
	$(QUIET) $(BIN)/pytest tests $(NOTEBOOKS) --nbval --nbval-current-env \
	    --nbval-sanitize-with notebooks/nbval_sanitize.cfg --nbval-cell-timeout=600 -q \
	    -n 2 --dist loadscope
	$(PY) scripts/check_site.py

unit: setup  ## Unit tests only, on 2 workers (no notebook execution)
	$(QUIET) $(BIN)/pytest tests -q -m "not notebook_run" -n 2 --dist loadscope

nbval: setup  ## Notebooks only, against their stored outputs
	$(QUIET) $(BIN)/pytest $(NOTEBOOKS) --nbval --nbval-current-env \
	    --nbval-sanitize-with notebooks/nbval_sanitize.cfg --nbval-cell-timeout=600 -q

site-check: setup  ## Build the site content offline (myst --site --strict) and check it
	$(PY) scripts/check_site.py

site: setup  ## Build the course site (HTML; falls back to an offline content build)
	$(PY) scripts/build_site.py

serve: setup  ## Serve the built site (_build/html) on http://127.0.0.1:8000/ (PORT=... to change)
	$(PY) scripts/serve_site.py --port $(PORT)

lab: setup  ## Open the notebooks in JupyterLab (with jupyterlab-myst), on this machine only
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=. \
	    --LabApp.default_url=/lab/tree/notebooks $(ALLOW_ROOT)

student: setup  ## Write student copies of the notebooks, solutions removed, to student/
	$(PY) scripts/student_copies.py --out student

student-lab: student  ## Open the student copies (student/) in JupyterLab, on this machine only
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=student \
	    --LabApp.default_url=/lab/tree $(ALLOW_ROOT)

notebooks: setup  ## Re-execute every notebook top to bottom and store its outputs
	$(QUIET) $(PY) scripts/run_notebooks.py $(NOTEBOOKS)

bench: setup  ## Run the benchmarks side by side with flowjax; writes benchmarks/results/
	$(QUIET) $(PY) benchmarks/run.py

lock: setup  ## Re-pin constraints.txt from the current environment
	$(PY) -m pip freeze --exclude-editable --exclude gauss_flows > constraints.txt

clean:  ## Remove build outputs and student copies
	rm -rf _build student
