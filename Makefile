# The two commands of the README: `make demo` and `make test`. Both start from a bare
# machine with Python 3, make and apt: they create .venv and install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip install --quiet --disable-pip-version-check
SOURCES := src tests benchmarks conftest.py

.PHONY: demo test fuzz lint browser bench images clean docs docs-site

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && \
	  $(PYTHON) -m venv $(VENV); }
	$(PIP) --upgrade pip

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(PIP) -e ".[all]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) -e ".[test]"
	touch $@

# the competitors make bench measures beside gradfit (dask-ml)
$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(PIP) -e ".[bench]"
	touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/gradfit demo --plots gradfit-demo-plots

# The pictures README.md shows, made by the code they show.
images: $(VENV)/.installed-test browser
	MPLCONFIGDIR=$(CURDIR)/.venv/mpl $(BIN)/python -c "from gradfit.demo import write_plots; write_plots('docs/images')"
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_web_browser.py -k success
	cp test-artifacts/screenshots/success.png docs/images/playground.png
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/test_web_lessons.py tests/test_web_race.py \
	  tests/test_web_eigen.py -k "1280 and (drag or four or slider)"
	cp test-artifacts/screenshots/lessons-drag-1280.png docs/images/lessons.png
	cp test-artifacts/screenshots/race-four-1280.png docs/images/race.png
	cp test-artifacts/screenshots/eigen-1280.png docs/images/eigen.png

lint: $(VENV)/.installed-test
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy

# Debian's Chromium for the playground's browser tests (Playwright drives it; see
# ../shared/ENVIRONMENT.md: `playwright install` cannot work on these machines).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

test: lint browser docs-site
	MPLCONFIGDIR=$(CURDIR)/.venv/mpl $(BIN)/python -m pytest

# The documentation site (mkdocs.yml): built with warnings as errors (a tutorial whose
# code fails, a broken link or docstring fails the build), then served on loopback.
DOCS_ENV := NO_MKDOCS_2_WARNING=1 MPLCONFIGDIR=$(CURDIR)/.venv/mpl
docs-site: $(VENV)/.installed-test
	$(DOCS_ENV) $(BIN)/mkdocs build --strict --quiet

docs: docs-site
	$(DOCS_ENV) $(BIN)/mkdocs serve --strict --dev-addr 127.0.0.1:8001

# The property tests with fresh random examples, FUZZ_ROUNDS times (`make test` repeats
# the same examples every run).
FUZZ_ROUNDS ?= 10
fuzz: $(VENV)/.installed-test
	for round in $$(seq $(FUZZ_ROUNDS)); do \
	  HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -q -p no:cacheprovider -m hypothesis \
	    -o addopts= tests || exit 1; done

bench: $(VENV)/.installed-bench browser
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .benchmarks build site
