"""The .env file: parsed with comments stripped, read from the checkout only, never by the tests; .env.example."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from ctit_trial.environment import env_file_path, env_file_read, env_value
from tests.deploy.wheel_build import ROOT

EXAMPLE = ROOT / ".env.example"
ACTIVE = {
    "DJANGO_DEBUG": "1",
    "DJANGO_SECRET_KEY": "change-me-to-50-random-characters-in-production",
    "SIGNATURE_KEY": "",
    "SIGNATURE_KEY_FALLBACKS": "",
    "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
    "SITE_URL": "http://127.0.0.1:8000",
}
COMMENTED = {  # each `# NAME=value  # comment` line of .env.example, uncommented
    "DJANGO_ALLOW_DEV_SECRET_KEY": ["1"],
    "DJANGO_CSRF_TRUSTED_ORIGINS": ["https://trial.example.org"],
    "CTIT_VAR_DIR": ["/srv/ctit/var"],
    "DJANGO_LOG_LEVEL": ["INFO"],
    "DATABASE_URL": ["postgres://ctit:ctit@127.0.0.1:5432/ctit"],
    "DJANGO_CONN_MAX_AGE": ["60"],
    "DJANGO_DB_TRANSACTION_POOLING": ["0"],
    "REDIS_URL": ["redis://127.0.0.1:6379/0"],
    "CELERY_BROKER_URL": ["redis://127.0.0.1:6379/1"],
    "EMAIL_URL": ["smtp+tls://user:password@smtp.example.org:587", "consolemail://"],
    "EMAIL_FILE_PATH": ["/path/to/mail/folder"],
    "DEFAULT_FROM_EMAIL": ["XJ-MK-002 trial <no-reply@example.org>"],
    "DJANGO_SECURE_SSL_REDIRECT": ["1"],
    "DJANGO_SECURE_HSTS_SECONDS": ["31536000"],
    "DJANGO_SESSION_COOKIE_AGE": ["28800"],
    "DJANGO_STATIC_ROOT": ["/app/var/static"],
    "DJANGO_DATA_UPLOAD_MAX_MEMORY_SIZE": ["1048576"],
    "API_THROTTLE_ANON": ["60/minute"],
    "API_THROTTLE_USER": ["1200/minute"],
    "API_THROTTLE_AUTH": ["10/minute"],
    "THROTTLE_REDIS_RETRY_SECONDS": ["30"],
    "DJANGO_TRUSTED_PROXY_COUNT": ["0"],
    "CTIT_LOCKOUT_ENABLED": ["1"],
    "CTIT_LOCKOUT_FAILURES": ["5"],
    "CTIT_LOCKOUT_COOLOFF_MINUTES": ["15"],
    "CTIT_LOCKOUT_BY": ["username+ip_address"],
    "CTIT_REQUIRE_2FA": ["1"],
    "OTP_TOTP_ISSUER": ["XJ-MK-002 trial"],
    "API_TOKEN_TTL_HOURS": ["12"],
    "DJANGO_SESSION_IDLE_MINUTES": ["30"],
    "CELERY_TASK_TIME_LIMIT": ["300"],
    "CELERY_TASK_SOFT_TIME_LIMIT": ["240"],
    "WORKER_HEARTBEAT_MAX_AGE_SECONDS": ["120"],
    "NOTIFICATION_SENDING_TIMEOUT_SECONDS": ["900"],
    "NOTIFICATION_MAX_ATTEMPTS": ["6"],
    "NOTIFICATION_RETRY_BASE_SECONDS": ["60"],
    "NOTIFICATION_RETRY_MAX_SECONDS": ["3600"],
    "NOTIFICATION_REDISPATCH_SECONDS": ["300"],
    "NOTIFICATION_DISPATCH_BATCH": ["500"],
    "DJANGO_LOG_JSON": ["1"],
    "METRICS_TOKEN": ["a-long-random-token"],
    "CELERY_METRICS_PORT": ["9808"],
    "SENTRY_DSN": ["https://public-key@sentry.example.org/1"],
    "SENTRY_ENVIRONMENT": ["production"],
    "SENTRY_RELEASE": [""],
    "SENTRY_TRACES_SAMPLE_RATE": ["0.0"],
    "SITE_DOMAIN": ["trial.example.org"],
    "CADDY_TLS": ["internal"],
    "POSTGRES_PASSWORD": ["a-long-random-password"],
    "WEB_CONCURRENCY": ["3"],
    "CELERY_CONCURRENCY": ["2"],
    "BACKUP_INTERVAL_SECONDS": ["86400"],
    "BACKUP_KEEP_DAYS": ["14"],
    "BACKUP_DIR": ["./backups"],
    "CTIT_IMAGE_TAG": ["latest"],
}
NOT_IN_THE_FILE = {"CTIT_REQUIRE_SERVICES", "CTIT_ENV_FILE"}  # CI's flag; the file's own location


def commented_examples() -> list[tuple[str, str]]:
    """(name, the line uncommented) for each commented-out assignment of .env.example."""
    lines = EXAMPLE.read_text().splitlines()
    return [(m.group(1), line[2:]) for line in lines if (m := re.match(r"^# ([A-Z][A-Z0-9_]*)=", line))]


def test_every_active_line_of_the_example_parses_to_what_it_says():
    assert env_file_read(EXAMPLE) == ACTIVE


def test_every_commented_example_parses_to_its_value_when_uncommented(tmp_path):
    found: dict[str, list[str]] = {}
    for name, line in commented_examples():
        (tmp_path / ".env").write_text(line + "\n")
        found.setdefault(name, []).extend(env_file_read(tmp_path / ".env").values())

    assert found == COMMENTED


def test_the_example_documents_every_variable_the_settings_read():
    read = set()
    for module in ("settings.py", "secret_key.py"):
        read |= set(re.findall(r'env\.[a-z]+\("([A-Z0-9_]+)"', (ROOT / "ctit_trial" / module).read_text()))

    assert sorted(read - set(ACTIVE) - set(COMMENTED) - NOT_IN_THE_FILE) == []


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("1                # 0 in production", "1"),
        ("http://127.0.0.1:8000   # used in links", "http://127.0.0.1:8000"),
        ("      # only a comment", ""),
        ("", ""),
        ("a#b", "a#b"),  # a `#` inside a value is kept
        ("'q8# 2vH'  # quoted: literal", "q8# 2vH"),
        ('"XJ-MK-002 trial <no-reply@example.org>"', "XJ-MK-002 trial <no-reply@example.org>"),
        ("  spaced out  ", "spaced out"),
    ],
)
def test_values_lose_their_comment_and_surrounding_spaces(written, value):
    assert env_value(written, where="test") == value


def test_an_unclosed_quote_or_a_line_of_another_shape_is_refused_with_its_line_number(tmp_path):
    (tmp_path / "quote.env").write_text("A=1\nB='open\n")
    (tmp_path / "shape.env").write_text("# fine\n\nexport A=1\njust words\n")

    with pytest.raises(ImproperlyConfigured, match=r"quote\.env, line 2: the quote opened by ' is not closed"):
        env_file_read(tmp_path / "quote.env")
    with pytest.raises(ImproperlyConfigured, match=r"shape\.env, line 4: not KEY=value, a comment or blank\."):
        env_file_read(tmp_path / "shape.env")


def test_the_checkouts_env_is_read_unless_ctit_env_file_says_otherwise(tmp_path):
    checkout, installed = tmp_path / "checkout", tmp_path / "site-packages"
    for folder in (checkout, installed):
        folder.mkdir()
        (folder / ".env").write_text("A=1\n")
    (checkout / "manage.py").write_text("")

    assert env_file_path({}, checkout) == checkout / ".env"
    assert env_file_path({}, installed) is None  # the installed package reads no file of its own
    assert env_file_path({"CTIT_ENV_FILE": ""}, checkout) is None
    assert env_file_path({"CTIT_ENV_FILE": "/etc/ctit.env"}, installed) == Path("/etc/ctit.env")


def test_the_test_run_reads_no_env_file():
    assert os.environ["CTIT_ENV_FILE"] == ""


def test_settings_take_values_from_the_named_file_with_comments_stripped(tmp_path):
    (tmp_path / "dev.env").write_text(EXAMPLE.read_text())
    script = "from django.conf import settings as s; print(s.DEBUG, s.SITE_URL, s.ALLOWED_HOSTS)"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SITE_"))}

    result = subprocess.run(  # noqa: S603 — fixed arguments
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", script],
        cwd=ROOT,
        env={**env, "CTIT_ENV_FILE": str(tmp_path / "dev.env")},
        capture_output=True,
        text=True,
    )

    assert result.stdout.strip() == "True http://127.0.0.1:8000 ['localhost', '127.0.0.1']", result.stderr
