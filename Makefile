# reptheory: the two commands of the README.
#   make book   create .venv if missing, install, build the HTML book into _build/html
#   make test   the same install, then every test: unit tests, nbval on every notebook, a clean
#               warning-free book build and a headless-Chromium check of every page
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: book test install unit notebooks build pages clean notebooks-refresh

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q -e . --no-deps
	touch $(STAMP)

install: $(STAMP)

book: install
	rm -rf _build
	timeout 900 $(BIN)/jupyter-book build -W -n --keep-going .

unit: install
	$(BIN)/python -m pytest -q tests

notebooks: install
	timeout 4000 $(BIN)/python -m pytest -q -p no:cacheprovider --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg book/

pages: install
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	$(BIN)/python tests/check_pages.py _build/html

test: unit notebooks book pages

# re-execute every notebook in place (authors, after changing reptheory/ or a notebook)
notebooks-refresh: install
	for nb in book/*.ipynb; do $(BIN)/jupyter execute --inplace "$$nb" || exit 1; done

clean:
	rm -rf _build
