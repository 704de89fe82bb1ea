"""deploy/backup.sh against the real PostgreSQL: a dump, retention of old dumps, a restore that replaces the data."""

import os
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.deploy.wheel_build import ROOT

pytestmark = pytest.mark.postgres
BACKUP = ROOT / "deploy/backup.sh"
DAY = 24 * 3600


@pytest.fixture
def libpq():
    """The libpq environment of the test database's server, and a scratch database on it (dropped afterwards)."""
    database = settings.DATABASES["default"]
    env = {
        "PATH": os.environ["PATH"],
        "PGHOST": database["HOST"] or "127.0.0.1",
        "PGPORT": str(database["PORT"] or 5432),
        "PGUSER": database["USER"],
        "PGPASSWORD": database["PASSWORD"] or "",
        "PGDATABASE": f"ctit_backup_{os.getpid()}",
    }
    psql(env, "postgres", f"CREATE DATABASE {env['PGDATABASE']}")
    yield env
    psql(env, "postgres", f"DROP DATABASE IF EXISTS {env['PGDATABASE']} WITH (FORCE)")


def psql(env: dict, database: str, sql: str) -> str:
    return subprocess.run(  # noqa: S603 — fixed arguments
        ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def backup(env: dict, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(BACKUP), *args], env={**env, **extra}, capture_output=True, text=True)  # noqa: S603


def aged(path: Path, days: float) -> Path:
    path.write_bytes(b"old dump")
    os.utime(path, (time.time() - days * DAY, time.time() - days * DAY))
    return path


def test_a_dump_is_written_and_dumps_past_the_retention_are_deleted(libpq, tmp_path):
    # given
    name = libpq["PGDATABASE"]
    expired, kept = (
        aged(tmp_path / f"{name}-20200101T000000Z.dump", 15),
        aged(tmp_path / f"{name}-20200103T000000Z.dump", 13),
    )
    other = aged(tmp_path / "notes.txt", 400)

    # when
    result = backup(libpq, "once", BACKUP_DIR=str(tmp_path), BACKUP_KEEP_DAYS="14")

    # then
    assert result.returncode == 0, result.stderr
    dumps = sorted(path.name for path in tmp_path.iterdir())
    (new,) = [dump for dump in dumps if dump not in (expired.name, kept.name, other.name)]
    assert dumps == sorted([kept.name, new, "notes.txt"])
    assert new.startswith(f"{name}-") and new.endswith("Z.dump")
    assert f"backup: wrote {tmp_path}/{new}" in result.stderr
    assert f"backup: deleted (older than 14 days) {expired}" in result.stderr


def test_restore_replaces_the_database_with_the_dump(libpq, tmp_path):
    # given a dump of two rows, then a change after it
    name = libpq["PGDATABASE"]
    psql(
        libpq, name, "CREATE TABLE dose (id int PRIMARY KEY, label text); INSERT INTO dose VALUES (1, 'L1'), (2, 'L2')"
    )
    assert backup(libpq, "once", BACKUP_DIR=str(tmp_path)).returncode == 0
    (dump,) = tmp_path.glob(f"{name}-*.dump")
    psql(libpq, name, "DELETE FROM dose WHERE id = 1; INSERT INTO dose VALUES (3, 'L3')")

    # when
    result = backup(libpq, "restore", str(dump))

    # then
    assert result.returncode == 0, result.stderr
    assert psql(libpq, name, "SELECT string_agg(label, ',' ORDER BY id) FROM dose") == "L1,L2"
    assert result.stderr.splitlines()[-1] == f"backup: restored {dump}; start web, worker and beat again"


def test_restore_refuses_a_missing_or_unreadable_dump_before_dropping_anything(libpq, tmp_path):
    name = libpq["PGDATABASE"]
    psql(libpq, name, "CREATE TABLE kept (id int)")
    (tmp_path / "garbage.dump").write_bytes(b"not a dump")

    missing = backup(libpq, "restore", str(tmp_path / "nowhere.dump"))
    garbage = backup(libpq, "restore", str(tmp_path / "garbage.dump"))

    assert (missing.returncode, missing.stderr.strip()) == (1, f"backup: no such dump: {tmp_path}/nowhere.dump")
    assert garbage.returncode != 0
    assert psql(libpq, name, "SELECT count(*) FROM kept") == "0"  # the table is still there


def test_the_service_dumps_at_start_then_sleeps_the_interval(libpq, tmp_path):
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "sleep").write_text('#!/bin/sh\necho "sleep $*" >&2\nexit 9\n')  # ends the loop after one round
    (stubs / "sleep").chmod(0o755)
    dumps = tmp_path / "dumps"
    dumps.mkdir()

    result = backup(libpq, PATH=f"{stubs}:{libpq['PATH']}", BACKUP_DIR=str(dumps), BACKUP_INTERVAL_SECONDS="3600")

    assert result.returncode == 9
    assert len(list(dumps.glob("*.dump"))) == 1
    assert result.stderr.splitlines()[-1] == "sleep 3600"
