# neural-style-em: `make all` runs every notebook headless, `make test` runs the tests (what CI runs).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9A][0-9]_*.ipynb))
CHAPTERS := $(sort $(wildcard notebooks/[0-9A][0-9]_*.py))
# Executed chapters replace the committed ones; a ci-profile run (tests, rehearsals) goes to a git-ignored folder.
EXECUTED := $(if $(filter ci,$(NSEM_PROFILE)),notebooks/executed/ci,notebooks)
# The book shows executed chapters from this folder (CI: the ci-profile run in notebooks/executed/ci).
BOOK_CHAPTERS ?= notebooks
BOOK_HTML := book/_build/html
# JavaScript that the book serves itself, so that it shows maths and widgets with no network: fetched once from the
# npm registry with `npm pack` (a tarball, no install scripts) into book/_vendor/ (git-ignored).
BOOK_VENDOR := book/_vendor
MATHJAX := mathjax@3.2.2
WIDGETS_JS := @jupyter-widgets/html-manager@1.0.15
REQUIREJS := requirejs@2.3.8

.PHONY: all setup sync test lab notebooks findings book book-ci check-book linkcheck benchmark clean-cache help

help:
	@echo "make setup      create .venv with the pinned requirements (idempotent)"
	@echo "make all        setup, then run every chapter headless with papermill (figures/ results/ executed .ipynb)"
	@echo "make sync       update each chapter's .ipynb from its .py source (jupytext)"
	@echo "make test       ruff, pytest on helpers + nbval over every notebook in the ci profile"
	@echo "make book       static HTML book of the executed chapters (BOOK_CHAPTERS=notebooks) -> $(BOOK_HTML)"
	@echo "make book-ci    every chapter in the ci profile (notebooks/executed/ci), then the book from them (CI)"
	@echo "make check-book headless Chromium visits every page of the built book; screenshots in book/_build/check"
	@echo "make linkcheck  check the book's external links (needs the network; the scheduled book workflow runs it)"
	@echo "make findings   rewrite the README's 'What we found' from results/ (make all does it)"
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

all: setup notebooks findings

# The .py files are the chapters' sources; jupytext keeps each paired .ipynb's cells in step with them.
sync: setup
	$(PY) -m jupytext --quiet --sync $(CHAPTERS)

# Each chapter runs top to bottom in the .venv's own python3 kernel, into a temporary file that replaces the
# executed chapter only when every cell succeeded; papermill exits non-zero on the first failing cell, and make
# stops. Figures and results go to the repository's figures/ and results/ (NSEM_OUTPUT=.; a chapter run any other
# way writes to the git-ignored outputs/). tools.run_stamp then stamps the run (profile, device, date, commit, run time) at the chapter's top.
notebooks: sync
	mkdir -p $(EXECUTED) figures results
	for nb in $(NOTEBOOKS); do \
	  out="$(EXECUTED)/$$(basename $$nb)"; \
	  echo "== $$nb -> $$out (profile: $${NSEM_PROFILE:-auto})"; \
	  NSEM_OUTPUT=$${NSEM_OUTPUT:-.} $(PY) -m papermill --cwd notebooks -k python3 --progress-bar "$$nb" "$(EXECUTED)/.partial-$$(basename $$nb)" \
	    $${NSEM_PROFILE:+-p profile $$NSEM_PROFILE} || { echo "FAILED: $$nb (partial output: $(EXECUTED)/.partial-$$(basename $$nb))"; exit 1; }; \
	  $(PY) -m tools.run_stamp stamp "$(EXECUTED)/.partial-$$(basename $$nb)"; \
	  mv "$(EXECUTED)/.partial-$$(basename $$nb)" "$$out"; \
	done

# The README's findings, from results/ (a test checks that the committed README matches them).
findings: setup
	$(PY) -m tools.findings

# Lint and format check first (seconds), then the tests and every chapter in the ci profile.
test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	NSEM_PROFILE=ci MPLBACKEND=Agg $(PY) -m pytest tests --nbval-lax --nbval-current-env $(NOTEBOOKS)

# MathJax, require.js and the widget manager's embed script, from npm. The embed script validates the widget state of a
# page with Ajv in strict mode and passes it no options, so the schema's union types log a warning on every page with
# widgets: the sed hands its two Ajv instances (and the library copy's) Ajv's documented option allowUnionTypes.
$(BOOK_VENDOR)/.done: Makefile
	@command -v npm >/dev/null || { echo "make book needs npm (Node.js) to fetch MathJax and the widget manager"; exit 1; }
	rm -rf $(BOOK_VENDOR) && mkdir -p $(BOOK_VENDOR)/packed $(BOOK_VENDOR)/widgets
	cd $(BOOK_VENDOR)/packed && npm pack --silent $(MATHJAX) $(WIDGETS_JS) $(REQUIREJS) >/dev/null
	cd $(BOOK_VENDOR) && for tgz in packed/*.tgz; do mkdir -p "$${tgz%.tgz}" && tar -xzf "$$tgz" -C "$${tgz%.tgz}"; done
	cd $(BOOK_VENDOR) && mv packed/mathjax-*/package/es5 mathjax && rm -f mathjax/tex-[!c]*.js mathjax/mml-*.js \
	  && mv packed/jupyter-widgets-html-manager-*/package/dist/* widgets/ && rm -f widgets/*.map widgets/embed.js \
	  && mv packed/requirejs-*/package/require.js widgets/ && rm -rf packed \
	  && sed -i -E 's/([A-Za-z_$$]+)=new\(([A-Za-z_$$]+\(\))\)([;,]([A-Za-z_$$]+=)?\1\.compile\()/\1=new(\2)({allowUnionTypes:!0})\3/' \
	    widgets/embed-amd.js widgets/libembed-amd.js \
	  && test "$$(grep -o 'allowUnionTypes:!0' widgets/embed-amd.js widgets/libembed-amd.js | wc -l)" -eq 4 \
	  && for folder in widgets/@jupyter-widgets widgets/@jupyter-widgets/html-manager/dist; do \
	    mkdir -p $$folder && cp widgets/*.woff* widgets/*.ttf widgets/*.eot widgets/*.svg $$folder/; done
	touch $@

# The book from the executed chapters, never running them (warnings are errors); a fresh build every time, so that
# a warning of an unchanged page is not hidden.
book: setup $(BOOK_VENDOR)/.done
	rm -rf $(BOOK_HTML) book/_build/doctrees
	NSEM_BOOK_CHAPTERS=$(BOOK_CHAPTERS) $(PY) -m sphinx -W --keep-going -q -b html -d book/_build/doctrees book $(BOOK_HTML)
	$(PY) tools/check_book.py --static $(BOOK_HTML)
	@echo "the book: $(BOOK_HTML)/index.html"

# What CI builds: every chapter executed in the ci profile (seconds each), then the book from those chapters.
book-ci: setup
	NSEM_PROFILE=ci $(MAKE) notebooks
	$(MAKE) book BOOK_CHAPTERS=notebooks/executed/ci

# Headless Chromium on every page of the built book (Debian's chromium, installed here if missing).
check-book: setup
	test -f $(BOOK_HTML)/index.html || $(MAKE) book
	command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	$(PY) tools/check_book.py --screenshots book/_build/check $(BOOK_HTML)

# The book's external links (citations, licences, Binder), which no offline check can reach.
linkcheck: setup $(BOOK_VENDOR)/.done
	NSEM_BOOK_CHAPTERS=$(BOOK_CHAPTERS) $(PY) -m sphinx -q -b linkcheck -d book/_build/doctrees book book/_build/linkcheck

lab: setup
	$(PY) -m jupyter lab notebooks

benchmark: setup
	$(PY) benchmarks/style_benchmark.py

clean-cache:
	rm -rf cache
