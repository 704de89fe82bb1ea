"""CTIT_REQUIRE_SERVICES=1 (set by .ci/run) turns a missing PostgreSQL into a failure, never a skip."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_TEST = "tests/enrollment/test_study_numbers.py::test_concurrent_registrations_get_distinct_consecutive_numbers"


def run_postgres_test_on_sqlite(require: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CTIT_REQUIRE_SERVICES")}
    env["CTIT_REQUIRE_SERVICES"] = require
    return subprocess.run(  # noqa: S603 — fixed arguments
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", POSTGRES_TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_missing_postgres_fails_in_ci():
    result = run_postgres_test_on_sqlite("1")

    assert result.returncode == 1, result.stdout
    assert "needs PostgreSQL: set DATABASE_URL=postgres://… (CTIT_REQUIRE_SERVICES=1: this test must run in CI)" in (
        result.stdout
    )


def test_missing_postgres_skips_on_a_laptop():
    result = run_postgres_test_on_sqlite("0")

    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
