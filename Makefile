# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install sysdeps lint format bench worker messages clean-db

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip uv

# Installs exactly what uv.lock pins (dev tools included); re-runs when the lock changes.
$(VENV)/.installed: uv.lock pyproject.toml | $(BIN)/python
	$(BIN)/uv sync --frozen --all-groups --quiet
	touch $@

install: $(VENV)/.installed

sysdeps:
	@bash scripts/sysdeps.sh

# Serves the app with demo data on the embedded default (SQLite + filesystem broker),
# together with the Celery worker and its scheduler. DATABASE_URL / REDIS_URL switch to
# PostgreSQL / Redis.
run: install sysdeps
	@mkdir -p var/broker/processed
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo
	@bash scripts/run.sh

worker: install
	$(BIN)/celery -A config worker -B --pool=solo --loglevel=INFO

# The whole suite: SQLite by default; PostgreSQL and Redis when DATABASE_URL / REDIS_URL say so.
# In parallel, one pytest-xdist process per core (each with its own database, media folder,
# Redis database and Celery queue); PYTEST_WORKERS=0 runs it in one process. On PostgreSQL it
# runs with the two roles of docs/deploy.md §4 (scripts/pg_test_roles.py creates them).
PYTEST_WORKERS ?= auto
test: install
	@roles="$$($(BIN)/python scripts/pg_test_roles.py)" && eval "$$roles" && \
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Compile the translations (the .mo files are committed; this is only for editing them).
messages: install
	cd $(CURDIR) && $(BIN)/python manage.py compilemessages -l en --ignore=.venv

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean-db:
	rm -f var/db.sqlite3 var/db.sqlite3-wal var/db.sqlite3-shm
