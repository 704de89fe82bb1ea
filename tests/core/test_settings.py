"""Production settings pass `check --deploy`; defaults work with nothing installed."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.parametrize(
    ("env", "required"),
    [
        (PRODUCTION_ENV, "True"),  # DEBUG off: the second factor is required for admin login and signing
        ({**PRODUCTION_ENV, "CTIT_REQUIRE_2FA": "0"}, "False"),  # a deliberate opt-out only
        ({"DJANGO_DEBUG": "1"}, "False"),  # make run: optional until a device is enrolled
    ],
)
def test_the_second_factor_is_required_in_production_by_default(env, required):
    script = "from django.conf import settings as s; print(s.CTIT_REQUIRE_2FA)"

    result = run_manage("shell", "-v", "0", "-c", script, env=env)

    assert result.stdout.split() == [required], result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {name: value for name, value in PRODUCTION_ENV.items() if name != "DJANGO_SECRET_KEY"}

    result = run_manage("check", env=env)

    assert result.returncode == 1
    assert (
        "ImproperlyConfigured: DJANGO_SECRET_KEY is not set (or is a published placeholder) and DJANGO_DEBUG is off"
        in (result.stderr)
    )


@pytest.mark.parametrize(
    "published_key",
    ["change-me-to-50-random-characters-in-production", "dev-only-insecure-key-change-me-" + "x" * 32],
)
def test_production_refuses_to_start_with_a_published_key(published_key):
    result = run_manage("check", env={**PRODUCTION_ENV, "DJANGO_SECRET_KEY": published_key})

    assert result.returncode == 1
    assert "DJANGO_SECRET_KEY is not set (or is a published placeholder)" in result.stderr


def test_development_runs_without_a_key_with_debug_on_or_the_explicit_flag():
    with_debug = run_manage("check", env={"DJANGO_DEBUG": "1"})
    with_flag = run_manage("check", env={"DJANGO_DEBUG": "0", "DJANGO_ALLOW_DEV_SECRET_KEY": "1"})

    assert with_debug.returncode == 0, with_debug.stderr
    assert with_flag.returncode == 0, with_flag.stderr


def test_check_deploy_fails_on_the_development_key():
    result = run_manage(
        "check", "--deploy", env={**PRODUCTION_ENV, "DJANGO_SECRET_KEY": "", "DJANGO_ALLOW_DEV_SECRET_KEY": "1"}
    )

    assert result.returncode == 1
    assert "(ctit_trial.E001) SECRET_KEY is a published development key: unfit for production." in result.stderr


@pytest.mark.parametrize("weak_key", ["collectstatic-only", "ab" * 40])
def test_check_deploy_fails_on_a_short_or_repetitive_key(weak_key):
    result = run_manage("check", "--deploy", env={**PRODUCTION_ENV, "DJANGO_SECRET_KEY": weak_key})

    assert result.returncode == 1
    assert (
        "(ctit_trial.E001) SECRET_KEY has fewer than 50 characters or fewer than 5 distinct ones: unfit for production."
        in result.stderr
    )


def test_the_dockerfile_build_key_lets_collectstatic_settings_load():
    build_key = re.search(r"DJANGO_SECRET_KEY=(\S+) python manage.py collectstatic", (ROOT / "Dockerfile").read_text())

    result = run_manage("check", env={"DJANGO_SECRET_KEY": build_key.group(1)})

    assert result.returncode == 0, result.stderr
