# stepup's two commands: `make demo` and `make test`. Everything they need is installed here,
# so both work on a fresh Debian machine that has nothing but Python 3.11.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint docs install clean redis-server bench test-versions catalogs

$(VENV)/bin/python:
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q python3-venv)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[flask,asgi,redis,dev]'
	touch $(STAMP)

install: $(STAMP)

# The demo runs in a venv of its own with only what it needs (the [demo] extra: stepup,
# Flask, Flask-Login and prometheus-client; some 20 packages), not the test and lint tools `make test` installs.
DEMO_VENV := .venv-demo
DEMO_STAMP := $(DEMO_VENV)/.installed

$(DEMO_STAMP): pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q python3-venv)
	$(PYTHON) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install -q -e '.[demo]'
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(DEMO_VENV)/bin/python -m examples.flask_app

# The browser suite (tests/browser) drives Debian's Chromium, never a browser Playwright downloads.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	apt-get update -q && apt-get install -y -q chromium

# The Redis tests (tests/storage) start their own redis-server processes, and redis-cli
# joins three of them into a cluster: Debian's redis-server package brings both.
redis-server:
	@command -v redis-server >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q redis-server)

test: $(STAMP) $(CHROMIUM) redis-server
	$(PY) -m pytest -q
	@$(MAKE) --no-print-directory test-versions

# requires-python promises 3.11 and later, so `make test` then runs the suite under each of
# VERSIONS too, when this machine has that interpreter (python3.X on PATH, else pyenv's
# newest 3.X under /root/.pyenv/versions/), in a venv of its own (.venv-3.X, the same
# extras as .venv). A missing interpreter is a printed note, not a failure.
#
# CI's time: one whole run takes about 3 minutes on a 2-core machine, so three in a row
# would come near 10 minutes. The other versions therefore run on both cores
# (pytest-xdist, -n 2) and leave out tests/browser: Chromium is the most CPU-hungry part
# of the suite, and it checks the pages in a browser, which no Python version changes.
# Everything else runs: every store (tests/storage, the Redis tests on real servers),
# both adapters (tests/adapters, tests/flask, tests/asgi), every security test
# (tests/security, none needs a browser), the core and the senders.
VERSIONS := 3.12 3.13
VERSION_TESTS := -n 2 tests --ignore=tests/browser
# The interpreter itself, asked for its path: pyenv's shim for python3.X is on PATH even
# when pyenv would refuse to run that version.
python_for = $(or $(shell python$(1) -c 'import sys; print(sys.executable)' 2>/dev/null),$(lastword $(sort $(wildcard /root/.pyenv/versions/$(1).*/bin/python3))))

# the per-version venvs stay installed between runs, as .venv does
.PRECIOUS: .venv-%/.installed

.venv-%/.installed: pyproject.toml
	$(call python_for,$*) -m venv .venv-$*
	.venv-$*/bin/python -m pip install -q --upgrade pip
	.venv-$*/bin/python -m pip install -q -e '.[flask,asgi,redis,dev]'
	touch $@

test-versions: $(foreach v,$(VERSIONS),$(if $(call python_for,$(v)),test-python-$(v),note-python-$(v)))

test-python-%: .venv-%/.installed $(CHROMIUM) redis-server
	.venv-$*/bin/python -m pytest -q -p no:cacheprovider $(VERSION_TESTS)

note-python-%:
	@echo "note: no Python $* here (python$* on PATH or /root/.pyenv/versions/$*.*): its run is skipped."

# `make bench` runs benchmarks/ (in under 10 minutes) and rewrites docs/BENCHMARKS.md. Its
# extras (Flask-Security-Too, the peer; gunicorn, the production WSGI server) go into the
# same venv; no benchmark is a test, so `make test` never times anything.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[flask,asgi,redis,examples,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP) redis-server
	$(PY) -m benchmarks

# The settings table of docs/configuration.md is made from the Settings dataclass
# (src/stepup/_config.py); run this after adding or changing a setting. A test fails until then.
docs: $(STAMP)
	$(VENV)/bin/stepup config table --write docs/configuration.md

# `make catalogs` after adding or changing a user-facing text (docs/i18n.md): pybabel
# extract finds every T(), Tn(), N_() in the code and _t(), _tn() in the templates
# (babel.cfg) and writes src/stepup/locale/stepup.pot; pybabel update carries each new text
# into every locale's stepup.po, where it waits for its translation. A test fails until
# every catalog has every text, translated, with its placeholders and plural forms; the
# wheel's build compiles them (hatch_build.py).
BABEL_KEYWORDS := --no-default-keywords -k T -k Tn:1,2 -k N_ -k _t -k _tn:1,2
catalogs: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output --omit-header \
		--project stepup --copyright-holder "The stepup developers" -o src/stepup/locale/stepup.pot .
	$(VENV)/bin/pybabel update -i src/stepup/locale/stepup.pot -d src/stepup/locale -D stepup \
		--no-fuzzy-matching --ignore-obsolete

# `make lint`: ruff over everything pyproject's rules name (the examples and benchmarks too),
# mypy --strict over src/stepup (pyproject's [tool.mypy]). CI runs it before the tests.
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests examples benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) $(DEMO_VENV) $(addprefix .venv-,$(VERSIONS)) .pytest_cache build dist
