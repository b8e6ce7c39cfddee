# Two commands on a fresh machine: `make run` serves the embedded default (on an empty database with a sample
# field day; SAMPLE=0 for none), `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Tests run on SpatiaLite, and on PostGIS too when TEST_DATABASE_URL is set.
PYTEST_ARGS ?= -n 2

.PHONY: run test system-deps install migrate clean bench lock translations

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock setuptools
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $@

install: $(VENV)/.installed

system-deps:
	@sh scripts/system-deps.sh

migrate: install system-deps
	$(BIN)/fieldwatch migrate

run: migrate
	$(BIN)/fieldwatch seed-taxonomy
	$(BIN)/fieldwatch seed-demo $(if $(filter 0,$(SAMPLE)),,--sample)
	@echo "console (office staff): http://$(HOST):$(PORT)/console/   public pages: http://$(HOST):$(PORT)/   API: http://$(HOST):$(PORT)/docs"
	$(BIN)/fieldwatch run --host $(HOST) --port $(PORT)

test: install system-deps
	@sh scripts/browser-deps.sh
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install system-deps
	@sh scripts/bench-deps.sh
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lock:
	sh scripts/lock.sh

clean:
	rm -rf $(VENV) var .pytest_cache

# Re-extract the pages' strings and merge them into web/translations (then fill in the Chinese).
translations: install
	$(BIN)/pybabel extract -F web/babel.cfg -k _l -k lazy_gettext --no-location --sort-output --omit-header \
		-o web/translations/messages.pot web/
	$(BIN)/python web/translations/catalogue.py
