# Two commands do all the set-up: `make demo` runs Tidings, `make test` runs every test.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
# The PostgreSQL run of the suite; pytest-django creates and drops test_tidings on it. Its
# sessions commit without waiting for the disk (synchronous_commit=off: a crash of the server
# could lose the last commits, never corrupt them), which halves each test's clean-up.
PG_URL ?= postgres://root@127.0.0.1:5432/tidings
PG_FAST = $(PG_URL)?options=-c%20synchronous_commit%3Doff
# Tests keep their SQLite file and secrets apart from the demo's data.
TEST_ENV := TIDINGS_DATA_DIR=$(CURDIR)/data/test

.PHONY: install demo serve test test-fast lint test-sqlite test-postgres clean axe messages

$(BIN)/tidings: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/tidings

demo: install
	$(BIN)/tidings demo

serve: install
	$(BIN)/tidings serve

lint: install
	$(BIN)/ruff format --check tidings tests
	$(BIN)/ruff check tidings tests
	$(BIN)/mypy tidings
	$(BIN)/lint-imports

# After marking new strings for translation: add them to every catalog (GNU gettext's xgettext
# and msgmerge), then translate the new entries. Tidings compiles the catalogs when it starts.
messages: install
	cd tidings && DJANGO_SETTINGS_MODULE=tidings.settings ../$(BIN)/python -m django makemessages -a --add-location=file --no-obsolete

# axe-core for the accessibility checks (pinned by tests/axe/package-lock.json), when npm exists.
axe:
	@if command -v npm >/dev/null 2>&1 && [ ! -d tests/axe/node_modules ]; then \
		npm ci --prefix tests/axe --silent --no-audit --no-fund; fi

# Tests run in parallel (pytest-xdist): most of them wait on sockets and processes, so three
# processes keep two cores busy. WORKERS=1 runs them one after another.
WORKERS ?= 3
PYTEST := $(BIN)/python -m pytest -q -n $(WORKERS)

test-sqlite: install axe
	$(TEST_ENV) $(PYTEST) -m "not restarts_postgres"

# The test that restarts PostgreSQL runs alone, after the rest: it would cut the others off.
# Tests whose subject is not the database (one_database: browsers, checkers) ran on SQLite.
test-postgres: install axe
	$(TEST_ENV) DATABASE_URL="$(PG_FAST)" $(PYTEST) -m "not restarts_postgres and not one_database"
	$(TEST_ENV) DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -q -m restarts_postgres

# The inner loop: everything but the slow end-to-end tests, on SQLite.
test-fast: install
	$(TEST_ENV) $(PYTEST) -m "not slow"

test: lint test-sqlite test-postgres

clean:
	rm -rf $(VENV) data *.egg-info
