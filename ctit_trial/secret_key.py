"""Where SECRET_KEY comes from: the environment in production; a known development key only where it is harmless."""

from django.core.exceptions import ImproperlyConfigured

DEV_SECRET_KEY = "dev-only-insecure-key-change-me-" + "x" * 32
# Keys that are published (in this repository) and so never secret.
PUBLISHED_KEYS = frozenset({DEV_SECRET_KEY, "change-me-to-50-random-characters-in-production"})
MIN_LENGTH = 50  # Django's own check --deploy threshold (security.W009)
MIN_UNIQUE_CHARACTERS = 5

MISSING = (
    "DJANGO_SECRET_KEY is not set (or is a published placeholder) and DJANGO_DEBUG is off: refusing to start. "
    "Set DJANGO_SECRET_KEY to at least 50 random characters, e.g. the output of "
    "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
)


def secret_key_from_environment(env, *, debug: bool) -> str:
    """DJANGO_SECRET_KEY; without a real one, the development key with DEBUG on or DJANGO_ALLOW_DEV_SECRET_KEY=1."""
    key = env.str("DJANGO_SECRET_KEY", default="")
    if key and key not in PUBLISHED_KEYS:
        return key
    if debug or env.bool("DJANGO_ALLOW_DEV_SECRET_KEY", default=False):
        return key or DEV_SECRET_KEY
    raise ImproperlyConfigured(MISSING)


def secret_key_weakness(key: str) -> str | None:
    """Why a key is unfit for production (published, short or repetitive), or None."""
    if key in PUBLISHED_KEYS:
        return "SECRET_KEY is a published development key"
    if len(key) < MIN_LENGTH or len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return f"SECRET_KEY has fewer than {MIN_LENGTH} characters or fewer than {MIN_UNIQUE_CHARACTERS} distinct ones"
    return None
