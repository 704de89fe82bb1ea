"""deploy/entrypoint.sh run with stub commands on PATH: it waits for the database, then runs the role it is given."""

import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tests.deploy.wheel_build import ROOT

ENTRYPOINT = ROOT / "deploy/entrypoint.sh"
STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "$CALLS"
"""
# The database check (python -c ...) fails while the counter file says the database is still down.
PYTHON_STUB = """#!/bin/sh
echo "python database-check" >> "$CALLS"
left="$(cat "$DOWN" 2>/dev/null || echo 0)"
if [ "$left" -gt 0 ]; then
  echo $((left - 1)) > "$DOWN"
  echo "psycopg.OperationalError: connection to server at db refused" >&2
  exit 1
fi
"""


@pytest.fixture
def entrypoint(tmp_path):
    """Run the entrypoint with gunicorn, celery, django-admin, python and sleep stubbed; returns (result, calls)."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    for name in ("gunicorn", "celery", "django-admin", "sleep"):
        (stubs / name).write_text(STUB)
    (stubs / "python").write_text(PYTHON_STUB)
    for stub in stubs.iterdir():
        stub.chmod(0o755)
    calls = tmp_path / "calls"

    def run(*args: str, down: int = 0, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
        (tmp_path / "down").write_text(str(down))
        environment = {
            "PATH": f"{stubs}:/usr/bin:/bin",
            "CALLS": str(calls),
            "DOWN": str(tmp_path / "down"),
            "HOSTNAME": "c0ffee",
            **env,
        }
        calls.write_text("")
        result = subprocess.run(["sh", str(ENTRYPOINT), *args], env=environment, capture_output=True, text=True)  # noqa: S603
        return result, calls.read_text().splitlines()

    return run


def test_web_waits_for_the_database_then_runs_gunicorn(entrypoint):
    result, calls = entrypoint("web", down=2, WEB_CONCURRENCY="5")

    assert result.returncode == 0, result.stderr
    assert calls == [
        "python database-check", "sleep 1", "python database-check", "sleep 1", "python database-check",
        "gunicorn ctit_trial.wsgi:application --bind 0.0.0.0:8000 --workers 5 --access-logfile -",
    ]  # fmt: skip
    assert "entrypoint: database ready after 2 s" in result.stderr


def test_web_and_worker_start_from_an_empty_metrics_folder(entrypoint, tmp_path):
    metrics = tmp_path / "prometheus"
    metrics.mkdir()
    (metrics / "counter_1234.db").write_text("samples of a previous run")

    for role in ("web", "worker"):
        result, _ = entrypoint(role, PROMETHEUS_MULTIPROC_DIR=str(metrics))
        assert result.returncode == 0, result.stderr
        assert (metrics.is_dir(), list(metrics.iterdir())) == (True, [])
        (metrics / "counter_1234.db").write_text("samples of a previous run")


def test_no_role_is_web(entrypoint):
    _, calls = entrypoint()

    assert calls[-1] == "gunicorn ctit_trial.wsgi:application --bind 0.0.0.0:8000 --workers 3 --access-logfile -"


def test_a_database_that_never_answers_stops_the_container_with_its_last_error(entrypoint):
    result, calls = entrypoint("worker", down=100, CTIT_DB_WAIT_SECONDS="3")

    assert result.returncode == 1
    assert calls.count("python database-check") == 4
    assert not [call for call in calls if call.startswith("celery")]
    assert result.stderr.splitlines() == [
        "entrypoint: the database did not answer within 3 s; last error:",
        "psycopg.OperationalError: connection to server at db refused",
    ]


def test_worker_runs_celery_under_a_node_name_its_health_check_pings(entrypoint):
    _, started = entrypoint("worker", CELERY_CONCURRENCY="4")
    checked, pinged = entrypoint("healthcheck", "worker")

    assert started[-1] == "celery -A ctit_trial worker --loglevel INFO --hostname worker@%h --concurrency 4"
    assert checked.returncode == 0
    assert pinged == ["celery -A ctit_trial inspect ping --destination worker@c0ffee --timeout 10"]  # %h: the hostname


def test_beat_keeps_its_schedule_in_the_var_folder(entrypoint):
    _, calls = entrypoint("beat", CTIT_VAR_DIR="/srv/var")

    assert calls[-1] == "celery -A ctit_trial beat --loglevel INFO --schedule /srv/var/celerybeat-schedule"


def test_migrate_migrates_then_seeds_and_stops_at_a_failed_migration(entrypoint, tmp_path):
    _, calls = entrypoint("migrate")
    (tmp_path / "bin" / "django-admin").write_text('#!/bin/sh\necho "django-admin $*" >> "$CALLS"\nexit 3\n')
    failed, failed_calls = entrypoint("migrate")

    assert calls == ["python database-check", "django-admin migrate --no-input", "django-admin seed"]
    assert failed.returncode == 3
    assert failed_calls == ["python database-check", "django-admin migrate --no-input"]


def test_any_other_command_runs_once_the_database_answers(entrypoint):
    _, calls = entrypoint("django-admin", "createsuperuser", "--username", "admin")
    _, unwaited = entrypoint("django-admin", "check", CTIT_WAIT_FOR_DB="0")

    assert calls == ["python database-check", "django-admin createsuperuser --username admin"]
    assert unwaited == ["django-admin check"]


def test_the_beat_health_check_wants_a_schedule_file_written_in_the_last_ten_minutes(entrypoint, tmp_path):
    schedule = tmp_path / "var" / "celerybeat-schedule"
    schedule.parent.mkdir()
    schedule.write_bytes(b"shelve")

    fresh, calls = entrypoint("healthcheck", "beat", CTIT_VAR_DIR=str(schedule.parent))
    os.utime(schedule, (time.time() - 11 * 60, time.time() - 11 * 60))
    stale, _ = entrypoint("healthcheck", "beat", CTIT_VAR_DIR=str(schedule.parent))

    assert (fresh.returncode, calls) == (0, [])  # no database wait for a health check
    assert stale.returncode == 1
    assert f"entrypoint: beat has not written {schedule} for 10 minutes" in stale.stderr


class Livez(BaseHTTPRequestHandler):
    hosts: list[str] = []

    def do_GET(self):  # noqa: N802 — the http.server API
        Livez.hosts.append(self.headers["Host"])
        self.send_response(200 if self.path == "/livez" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_web_health_check_asks_livez_with_the_site_host_name(entrypoint, tmp_path):
    server = HTTPServer(("127.0.0.1", 0), Livez)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    real_python = f"{Path(sys.executable).parent}:/usr/bin:/bin"  # the health check runs Python itself, no stub
    try:
        ok, _ = entrypoint(
            "healthcheck", "web", CTIT_HEALTH_URL=f"{url}/livez", SITE_DOMAIN="trial.example.org", PATH=real_python
        )
        missing, _ = entrypoint("healthcheck", "web", CTIT_HEALTH_URL=f"{url}/nowhere", PATH=real_python)
    finally:
        server.shutdown()

    assert ok.returncode == 0, ok.stderr
    assert missing.returncode == 1
    assert Livez.hosts == ["trial.example.org", "localhost"]
