# Trellis: `make run` serves it, `make test` runs the whole test suite.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The PostgreSQL server the test suite runs against, besides SQLite.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/trellis
# Spread the suite over every core.
PYTEST_ARGS ?= -n auto

.PHONY: run test test-sqlite test-postgres lint system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py trellis_setup
	exec $(BIN)/gunicorn --config trellis/gunicorn_conf.py trellis.wsgi

test: $(VENV)/.dev system-deps
	$(MAKE) --no-print-directory test-sqlite test-postgres lint

test-sqlite: $(VENV)/.dev
	@echo "== test suite on SQLite"
	env -u DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: $(VENV)/.dev
	@echo "== test suite on PostgreSQL ($(TEST_DATABASE_URL))"
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check trellis tests benchmarks
	$(BIN)/ruff format --check trellis tests benchmarks
	$(BIN)/mypy trellis

system-deps:
	@scripts/system-deps

clean:
	rm -rf $(VENV) .pytest_cache
