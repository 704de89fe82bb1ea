# The two commands: `make run` (set up everything and start the service) and `make test` (the whole check).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
PYTEST_ARGS ?= -n 2
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The venv holds exactly requirements/dev.txt (every package pinned and hashed), then the project itself, editable,
# without dependencies and without build isolation (its build backend is the locked setuptools). `make lock` refreshes
# the lock files from pyproject.toml; `make lock UPGRADE=1` also moves every indirect dependency to its newest release.
LOCK_FILES := requirements/base.txt requirements/build.txt requirements/dev.txt
PIP_INSTALL := $(BIN)/python -m pip install -qq --require-hashes --only-binary :all:
# The lock records the public index only: this machine's own wheel folders and pip configuration stay out of it.
PIP_COMPILE := env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null $(BIN)/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade)

.PHONY: run test lint format migrations-check schema-check pytest bench clean venv lock

venv: $(STAMP)

$(STAMP): pyproject.toml $(LOCK_FILES)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
		|| { echo "Python 3.11 is required (found: $(PYTHON))"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements/dev.txt
	$(BIN)/pip-sync -q --pip-args "--require-hashes --only-binary :all:" requirements/dev.txt  # drops what the lock no longer lists
	$(BIN)/python -m pip install -qq --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	@touch $(STAMP)

lock: $(STAMP)
	$(PIP_COMPILE) --output-file requirements/base.txt pyproject.toml
	$(PIP_COMPILE) --output-file requirements/build.txt requirements/build.in
	$(PIP_COMPILE) --extra dev --output-file requirements/dev.txt pyproject.toml requirements/dev.in
	@$(MAKE) --no-print-directory venv

run: $(STAMP)
	@bin/run

test: $(STAMP) lint migrations-check schema-check pytest

# The checks and tests run with DEBUG off, as production does, on the published development key (never deployed:
# `check --deploy` and start-up without DEBUG refuse it).
migrations-check schema-check pytest: export DJANGO_ALLOW_DEV_SECRET_KEY = 1
# A developer's .env never changes what is checked (CTIT_ENV_FILE empty: no file is read).
migrations-check schema-check pytest: export CTIT_ENV_FILE =

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
	$(BIN)/python benchmarks/bench_api.py  # every GET at 100 and 10,000 subjects; needs BENCH_DATABASE_URL (PostgreSQL)

clean:
	rm -rf $(VENV) var *.egg-info .pytest_cache .ruff_cache
