# Two commands on a fresh clone: `make run` and `make test` (see README).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8050
DEMO := var/demo/sources.toml
export DASHBOARD_SOURCES ?= $(CURDIR)/$(DEMO)

.PHONY: run test bench lint demo sync browsers clean

run: $(VENV)/.runtime $(DEMO) var/.synced var/.accounts
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python app.py

test: $(VENV)/.dev browsers
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev
	$(BIN)/python -m tests.bench

lint: $(VENV)/.dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Demo databases and the first sync, only when missing (`make demo sync` redoes them).
$(DEMO): | $(VENV)/.runtime
	$(BIN)/python -m data_loaders demo --out var/demo

var/.synced: $(DEMO)
	$(BIN)/python -m data_loaders sync && touch $@

# One demo account per role, passwords printed this once (dashboard/users.py).
var/.accounts: | var/.synced
	$(BIN)/python -m dashboard.users demo && touch $@

demo: $(VENV)/.runtime
	$(BIN)/python -m data_loaders demo --out var/demo

sync: $(VENV)/.runtime
	$(BIN)/python -m data_loaders sync && touch var/.synced

# Headless Chromium for the browser tests, from Debian (needs root or sudo).
browsers:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { echo "installing chromium and chromium-driver from Debian"; \
	    $$( [ $$(id -u) = 0 ] || echo sudo ) apt-get update -qq && \
	    $$( [ $$(id -u) = 0 ] || echo sudo ) apt-get install -y -qq chromium chromium-driver \
	    || echo "warning: could not install chromium; browser tests will be skipped"; }

clean:
	rm -rf $(VENV) var
