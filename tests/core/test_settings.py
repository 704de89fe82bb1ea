"""Production settings pass `check --deploy`; defaults work with nothing installed."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "q8#2vH!x9zL@m4Rt7wY$e1Kp6nB0cJ3sD5fG8hA2uQ9iO4lZ7xC1vN6bM3",
    "DJANGO_ALLOWED_HOSTS": "trial.example.org",
    "DATABASE_URL": "postgres://ctit:secret@db:5432/ctit",
    "REDIS_URL": "redis://redis:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.org:587",
}


def run_manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    return subprocess.run(  # noqa: S603 — fixed arguments
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout


def test_default_settings_use_sqlite_and_the_embedded_broker():
    script = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND, s.TIME_ZONE)"
    )
    result = run_manage("shell", "-v", "0", "-c", script, env={"DJANGO_DEBUG": "1"})

    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "django.core.mail.backends.filebased.EmailBackend",
        "UTC",
    ]


def test_environment_selects_postgres_redis_and_smtp():
    script = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_USE_TLS)"
    )
    result = run_manage("shell", "-v", "0", "-c", script, env=PRODUCTION_ENV)

    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "redis://redis:6379/0",
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.org",
        "True",
    ]
