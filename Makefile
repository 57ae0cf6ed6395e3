# RegionAir — the two commands of the README:
#   make run    set everything up and start the dashboard on the bundled real sample (no network needed)
#   make test   set everything up and run the linter, the import contract and the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PORT ?= 8501
PYTEST_ARGS ?=

.PHONY: run test setup system sample lint bench clean

run: setup system sample
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.headless true

test: setup system
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/pytest $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

# Debian packages: Chromium (browser tests, server-side chart images via kaleido) and CJK fonts.
system:
	@if command -v chromium >/dev/null && command -v pdftoppm >/dev/null && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "installing chromium and fonts-noto-cjk (apt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils >/dev/null; \
	else \
	  echo "need Debian packages chromium, fonts-noto-cjk and poppler-utils"; \
	  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk poppler-utils; \
	fi

# First run: create the store from the bundled real CNEMC sample (idempotent: a second ingest changes nothing).
sample: setup
	$(PY) -m regionair ingest --source cnemc-archive --path data/sample
	$(PY) scripts/load_recorded_weather.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) data/store data/cache artifacts .pytest_cache .ruff_cache
