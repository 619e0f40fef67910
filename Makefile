# stepup's two commands: `make demo` and `make test`. Everything they need is installed here,
# so both work on a fresh Debian machine that has nothing but Python 3.11.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint docs install clean redis-server bench

$(VENV)/bin/python:
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q python3-venv)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e '.[flask,asgi,redis,dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m examples.flask_app

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

# `make lint`: ruff over everything pyproject's rules name (the examples and benchmarks too),
# mypy --strict over src/stepup (pyproject's [tool.mypy]). CI runs it before the tests.
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests examples benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .pytest_cache build dist
