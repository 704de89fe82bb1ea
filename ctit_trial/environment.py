"""Reading the environment: the optional `.env` file, and what production (DEBUG off) refuses to start with.

A `.env` line is `KEY=value` (or `export KEY=value`); blank lines and lines starting with `#` are skipped. An
unquoted value ends at a `#` that begins it or follows a space (a comment), and is stripped of surrounding spaces:
`DJANGO_DEBUG=1   # 0 in production` is `1`, `KEY=a#b` is `a#b`. A value in single or double quotes is taken
literally, `#` and spaces included. Docker Compose reads its `.env` the same way, so one file serves both. Real
environment variables win over the file.
"""

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

ENV_FILE_VARIABLE = "CTIT_ENV_FILE"
LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$")
QUOTED = re.compile(r"""^(['"])(.*?)\1\s*(?:#.*)?$""")
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def env_file_path(environ: Mapping[str, str], base_dir: Path) -> Path | None:
    """CTIT_ENV_FILE when set (empty: no file); else the checkout's .env, when running from a checkout that has one."""
    if ENV_FILE_VARIABLE in environ:
        return Path(environ[ENV_FILE_VARIABLE]) if environ[ENV_FILE_VARIABLE] else None
    checkout_env = base_dir / ".env"
    return checkout_env if (base_dir / "manage.py").is_file() and checkout_env.is_file() else None


def env_file_read(path: Path) -> dict[str, str]:
    """The variables of one .env file (module docstring: the rules); a line of any other shape is refused."""
    variables = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = LINE.match(line)
        if match is None:
            raise ImproperlyConfigured(f"{path}, line {number}: not KEY=value, a comment or blank.")
        variables[match.group(1)] = env_value(match.group(2), where=f"{path}, line {number}")
    return variables


def env_value(raw: str, *, where: str) -> str:
    """One value as written after `=`: quoted literally, or unquoted up to a ` #` comment, spaces stripped."""
    raw = raw.strip()
    if raw[:1] in ("'", '"'):
        quoted = QUOTED.match(raw)
        if quoted is None:
            raise ImproperlyConfigured(f"{where}: the quote opened by {raw[0]} is not closed before the end of line.")
        return quoted.group(2)
    return re.split(r"(?:^|\s)#", raw, maxsplit=1)[0].strip()


def env_file_load(path: Path | None) -> None:
    """Put the file's variables into os.environ, leaving those already set (the real environment wins)."""
    if path is None:
        return
    if not path.is_file():
        raise ImproperlyConfigured(f"{ENV_FILE_VARIABLE} names {path}, which is not a file.")
    for name, value in env_file_read(path).items():
        os.environ.setdefault(name, value)


def production_refusals(
    environ: Mapping[str, str], *, allowed_hosts: list[str], email_backend: str, database_engine: str
) -> list[str]:
    """What makes this environment unsafe to serve the trial from with DEBUG off, one line per variable."""
    refusals = []
    if not environ.get("DJANGO_ALLOWED_HOSTS"):
        refusals.append("DJANGO_ALLOWED_HOSTS is not set: list the host names of the site, e.g. trial.example.org.")
    elif "*" in allowed_hosts:
        refusals.append("DJANGO_ALLOWED_HOSTS contains '*': list the host names of the site instead.")
    site_url = environ.get("SITE_URL", "")
    if not site_url:
        refusals.append("SITE_URL is not set: the https:// address users open (the links in reminder emails).")
    elif urlsplit(site_url).scheme != "https" or not urlsplit(site_url).hostname:
        refusals.append(f"SITE_URL must be an https:// address with a host name (got {site_url!r}).")
    if not environ.get("EMAIL_URL"):
        refusals.append("EMAIL_URL is not set: the SMTP server, e.g. smtp+tls://user:password@smtp.example.org:587.")
    elif email_backend != SMTP_BACKEND:
        scheme = environ["EMAIL_URL"].split(":", 1)[0]
        refusals.append(f"EMAIL_URL must be an SMTP server (smtp://, smtp+tls://, smtps://), not {scheme}://.")
    if not environ.get("DATABASE_URL"):
        refusals.append("DATABASE_URL is not set: PostgreSQL, e.g. postgres://ctit:password@db:5432/ctit.")
    elif database_engine != "django.db.backends.postgresql":
        refusals.append(f"DATABASE_URL must be PostgreSQL (got the {database_engine.rsplit('.', 1)[-1]} backend).")
    if not environ.get("REDIS_URL"):
        refusals.append("REDIS_URL is not set: Redis is the Celery broker and the cache every process shares.")
    return refusals


def refuse_unsafe_production(refusals: list[str]) -> None:
    """Stop the process, naming each variable to fix."""
    if refusals:
        lines = "\n".join(f"  - {refusal}" for refusal in refusals)
        raise ImproperlyConfigured(f"DJANGO_DEBUG is off (production) and the environment is unsafe:\n{lines}")
