# The two commands: `make run` (set up everything and start the service) and `make test` (the whole check).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
PYTEST_ARGS ?= -n 2
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format migrations-check schema-check pytest bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
		|| { echo "Python 3.11 is required (found: $(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -qq --upgrade pip
	$(BIN)/pip install -qq -e ".[dev]"
	@touch $(STAMP)

run: $(STAMP)
	@bin/run

test: $(STAMP) lint migrations-check schema-check pytest

# The checks and tests run with DEBUG off, as production does, on the published development key (never deployed:
# `check --deploy` and start-up without DEBUG refuse it).
migrations-check schema-check pytest: export DJANGO_ALLOW_DEV_SECRET_KEY = 1

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache  # the layers of ADR 0013 (pyproject: tool.importlinter)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check

schema-check: $(STAMP)
	@mkdir -p var
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yaml

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_simulation.py
	$(BIN)/python benchmarks/bench_reminders.py  # SQLite in a temp folder; BENCH_DATABASE_URL=postgres://… for PostgreSQL

clean:
	rm -rf $(VENV) var *.egg-info .pytest_cache .ruff_cache
