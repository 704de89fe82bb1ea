"""Production settings pass `check --deploy` and refuse unsafe or missing values; defaults work with nothing set."""

import os
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
    "SITE_URL": "https://trial.example.org",
}


def run_manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    prefixes = ("DJANGO_", "DATABASE_", "REDIS_", "EMAIL_", "SITE_", "CELERY_")
    clean = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
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


def test_the_image_build_collects_static_files_as_a_test_run_with_debug_off(tmp_path):
    result = run_manage(
        "collectstatic", "--no-input", "-v", "0",
        env={"DJANGO_ALLOW_DEV_SECRET_KEY": "1", "DJANGO_STATIC_ROOT": str(tmp_path / "static")},
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "staticfiles.json").is_file()  # the manifest storage of DEBUG off


def without(*names: str) -> dict:
    return {name: value for name, value in PRODUCTION_ENV.items() if name not in names}


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        (without("DJANGO_ALLOWED_HOSTS"), "DJANGO_ALLOWED_HOSTS is not set: list the host names of the site"),
        ({**PRODUCTION_ENV, "DJANGO_ALLOWED_HOSTS": "*"}, "DJANGO_ALLOWED_HOSTS contains '*'"),
        (without("SITE_URL"), "SITE_URL is not set: the https:// address users open"),
        (
            {**PRODUCTION_ENV, "SITE_URL": "http://trial.example.org"},
            "SITE_URL must be an https:// address with a host name (got 'http://trial.example.org').",
        ),
        ({**PRODUCTION_ENV, "SITE_URL": "https://"}, "SITE_URL must be an https:// address with a host name"),
        (without("EMAIL_URL"), "EMAIL_URL is not set: the SMTP server, e.g. smtp+tls://"),
        (
            {**PRODUCTION_ENV, "EMAIL_URL": "filemail://"},
            "EMAIL_URL must be an SMTP server (smtp://, smtp+tls://, smtps://), not filemail://.",
        ),
        ({**PRODUCTION_ENV, "EMAIL_URL": "consolemail://"}, "EMAIL_URL must be an SMTP server"),
        (without("DATABASE_URL"), "DATABASE_URL is not set: PostgreSQL, e.g. postgres://"),
        (
            {**PRODUCTION_ENV, "DATABASE_URL": "sqlite:////tmp/ctit.sqlite3"},
            "DATABASE_URL must be PostgreSQL (got the sqlite3 backend).",
        ),
        (without("REDIS_URL"), "REDIS_URL is not set: Redis is the Celery broker and the cache every process shares."),
    ],
)
def test_production_refuses_an_unsafe_or_missing_value_naming_the_variable(env, refusal):
    result = run_manage("check", env=env)

    assert result.returncode == 1
    assert "ImproperlyConfigured: DJANGO_DEBUG is off (production) and the environment is unsafe:" in result.stderr
    assert f"  - {refusal}" in result.stderr


def test_production_lists_every_refusal_at_once():
    result = run_manage("check", env=without("SITE_URL", "EMAIL_URL", "REDIS_URL"))

    refusals = [line.split(" ", 4)[3] for line in result.stderr.splitlines() if line.startswith("  - ")]
    assert refusals == ["SITE_URL", "EMAIL_URL", "REDIS_URL"]


def test_a_test_run_with_debug_off_keeps_the_development_defaults():
    script = "from django.conf import settings as s; print(s.SITE_URL, s.EMAIL_BACKEND)"

    result = run_manage("shell", "-v", "0", "-c", script, env={"DJANGO_ALLOW_DEV_SECRET_KEY": "1"})

    assert result.stdout.split() == ["http://127.0.0.1:8000", "django.core.mail.backends.filebased.EmailBackend"]


@pytest.mark.parametrize(("proxies", "header"), [("0", "None"), ("1", "('HTTP_X_FORWARDED_PROTO', 'https')")])
def test_x_forwarded_proto_is_trusted_only_behind_our_proxy(proxies, header):
    script = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"

    result = run_manage("shell", "-v", "0", "-c", script, env={**PRODUCTION_ENV, "DJANGO_TRUSTED_PROXY_COUNT": proxies})

    assert result.stdout.strip() == header, result.stderr


def test_database_connections_persist_with_health_checks_by_default():
    script = (
        "from django.db import connection as c;"
        "print(c.settings_dict['CONN_MAX_AGE'], c.settings_dict['CONN_HEALTH_CHECKS'])"
    )

    default = run_manage("shell", "-v", "0", "-c", script, env=PRODUCTION_ENV)
    per_request = run_manage("shell", "-v", "0", "-c", script, env={**PRODUCTION_ENV, "DJANGO_CONN_MAX_AGE": "0"})

    assert (default.stdout.split(), per_request.stdout.split()) == (["60", "True"], ["0", "True"])
