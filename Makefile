# The two commands: `make run` serves the portal with demo data; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2
export FLASK_APP := wsgi

.PHONY: help run dev test install translations development database lint catalog vendor echarts clean

help:
	@echo "make run     serve the portal with demo data at http://127.0.0.1:$(PORT)"
	@echo "make test    install what the suite needs and run it on SQLite, PostgreSQL and Chromium"
	@echo "make dev     the same as run, with Flask's reloading debug server"
	@echo "make lint    ruff"
	@echo "make catalog re-extract UI strings into the translation catalogues"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet --constraint constraints.txt --editable .
	@touch $@

$(VENV)/.test: $(VENV)/.runtime
	$(BIN)/pip install --quiet --constraint constraints.txt --editable '.[test]'
	@touch $@

install: $(VENV)/.runtime

translations: $(VENV)/.runtime
	$(BIN)/pybabel compile --domain messages --directory portal/translations --statistics

# Development mode: plain HTTP on 127.0.0.1 (cookies without Secure) and demo data allowed. The checkout records it
# once in instance/config.py (git-ignored), so `.venv/bin/flask …` here needs nothing exported; a file that is
# already there is never changed. PORTAL_ENVIRONMENT, when set, wins over the file, as for every setting.
development:
	@mkdir -p instance
	@if [ ! -e instance/config.py ]; then \
	  printf '%s\n' '"""Written once by make (run, dev, database): this checkout is for development."""' '' \
	    '# Plain HTTP on 127.0.0.1 and demo data allowed. config.example.py describes the other settings.' \
	    'ENVIRONMENT = "development"' > instance/config.py; \
	  echo 'instance/config.py: ENVIRONMENT = "development" (this checkout is for development)'; \
	elif ! grep -Eq "^ENVIRONMENT *= *['\"]development['\"]" instance/config.py; then \
	  echo 'Note: instance/config.py does not say ENVIRONMENT = "development": make serves development all the' \
	    'same, .venv/bin/flask follows the file (add that line to it for a development checkout)'; \
	fi

database: export PORTAL_ENVIRONMENT ?= development
database: translations development
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load

run: export PORTAL_ENVIRONMENT ?= development
run: export PORTAL_PUBLIC_URL ?= http://127.0.0.1:$(PORT)
run: database
	@echo "Serving http://127.0.0.1:$(PORT) and the background worker (Ctrl-C stops both)"
	PORT=$(PORT) WORKERS=$(WORKERS) exec bash scripts/serve.sh

dev: export PORTAL_ENVIRONMENT ?= development
dev: export PORTAL_PUBLIC_URL ?= http://127.0.0.1:$(PORT)
dev: database
	$(BIN)/flask run --debug --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.test translations
	bash scripts/test.sh

lint: $(VENV)/.test
	$(BIN)/ruff check .

catalog: $(VENV)/.runtime
	$(BIN)/pybabel extract --mapping-file babel.cfg --keywords _l --keywords lazy_gettext \
	  --no-location --sort-output --project "Worker Service Portal" --output-file portal/translations/messages.pot .
	$(BIN)/pybabel update --input-file portal/translations/messages.pot --output-dir portal/translations \
	  --no-fuzzy-matching --ignore-obsolete

vendor:
	$(PYTHON) scripts/vendor.py

# The dashboard's ECharts with only the charts it draws, from npm (pinned, lockfile): run it only to change a
# version or what is drawn, and commit the result; `make run` and `make test` use the committed file.
echarts:
	bash scripts/echarts/build.sh

clean:
	rm -rf $(VENV) artifacts .pytest_cache .ruff_cache *.egg-info
