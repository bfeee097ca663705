# neural-style-em: `make all` runs every notebook headless, `make test` runs the tests (what CI runs).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
CHAPTERS := $(sort $(wildcard notebooks/[0-9][0-9]_*.py))
# Executed chapters replace the committed ones; a ci-profile run (tests, rehearsals) goes to a git-ignored folder.
EXECUTED := $(if $(filter ci,$(NSEM_PROFILE)),notebooks/executed/ci,notebooks)

.PHONY: all setup sync test lab notebooks benchmark clean-cache help

help:
	@echo "make setup      create .venv with the pinned requirements (idempotent)"
	@echo "make all        setup, then run every chapter headless with papermill (figures/ results/ executed .ipynb)"
	@echo "make sync       update each chapter's .ipynb from its .py source (jupytext)"
	@echo "make test       ruff, pytest on helpers + nbval over every notebook in the ci profile"
	@echo "make lab        start JupyterLab on the notebooks"
	@echo "make benchmark  style-transfer benchmark -> results/style_benchmark.json"
	@echo "profile: NSEM_PROFILE=full|reduced|ci (default: full with a GPU, reduced without)"

setup: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -c "import helpers.vgg as v; v.weights_path()"
	touch $@

all: setup notebooks

# The .py files are the chapters' sources; jupytext keeps each paired .ipynb's cells in step with them.
sync: setup
	$(PY) -m jupytext --quiet --sync $(CHAPTERS)

# Each chapter runs top to bottom in the .venv's own python3 kernel, into a temporary file that replaces the
# executed chapter only when every cell succeeded; papermill exits non-zero on the first failing cell, and make
# stops.
notebooks: sync
	mkdir -p $(EXECUTED) figures results
	for nb in $(NOTEBOOKS); do \
	  out="$(EXECUTED)/$$(basename $$nb)"; \
	  echo "== $$nb -> $$out (profile: $${NSEM_PROFILE:-auto})"; \
	  $(PY) -m papermill --cwd notebooks -k python3 --progress-bar "$$nb" "$(EXECUTED)/.partial-$$(basename $$nb)" \
	    $${NSEM_PROFILE:+-p profile $$NSEM_PROFILE} || { echo "FAILED: $$nb (partial output: $(EXECUTED)/.partial-$$(basename $$nb))"; exit 1; }; \
	  mv "$(EXECUTED)/.partial-$$(basename $$nb)" "$$out"; \
	done

# Lint and format check first (seconds), then the tests and every chapter in the ci profile.
test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	NSEM_PROFILE=ci MPLBACKEND=Agg $(PY) -m pytest tests --nbval-lax --nbval-current-env $(NOTEBOOKS)

lab: setup
	$(PY) -m jupyter lab notebooks

benchmark: setup
	$(PY) benchmarks/style_benchmark.py

clean-cache:
	rm -rf cache
