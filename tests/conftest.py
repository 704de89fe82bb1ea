"""Shared fixtures. Tests marked `postgres` or `redis` fail (not skip) when CTIT_REQUIRE_SERVICES=1 (CI)."""

import shutil
from datetime import datetime

import pytest


def _unavailable(item, reason: str) -> None:
    from django.conf import settings as django_settings

    if django_settings.CI_REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CTIT_REQUIRE_SERVICES=1: this test must run in CI)", pytrace=False)
    pytest.skip(reason)


def pytest_runtest_setup(item):
    from django.db import connection

    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _unavailable(item, "needs PostgreSQL: set DATABASE_URL=postgres://…")
    if item.get_closest_marker("redis") and not shutil.which("redis-server"):
        _unavailable(item, "needs the redis-server binary to start a private Redis")


@pytest.fixture(autouse=True)
def _test_settings(request):
    """Plain HTTP, no static manifest, a private cache, and mail kept in memory (when Django is loaded)."""
    if not request.config.pluginmanager.hasplugin("django"):
        return  # pure rule tests may run with `-p no:django`
    settings = request.getfixturevalue("settings")
    settings.SECURE_SSL_REDIRECT = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    locmem = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    settings.CACHES = {"default": locmem, "throttle": locmem, "throttle-fallback": {**locmem, "LOCATION": "fallback"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    # Lockout and the second factor are off unless a test turns them on (tests/core/test_login_*.py do).
    settings.AXES_ENABLED = False
    settings.CTIT_REQUIRE_2FA = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; hashing is Django's job
    from django.core.cache import caches

    for alias in ("default", "throttle", "throttle-fallback"):
        caches[alias].clear()


@pytest.fixture
def roles(db):
    """The study role groups with their permissions."""
    from enrollment.services import roles_sync

    roles_sync()


@pytest.fixture
def site_a(db):
    from tests.factories import make_site

    return make_site(code="BJ01", name="Beijing", time_zone="Asia/Shanghai")


@pytest.fixture
def site_b(db):
    from tests.factories import make_site

    return make_site(code="SH02", name="Shanghai", time_zone="Asia/Shanghai")


@pytest.fixture
def api_client_for(roles):
    """api_client_for(role_key, *sites) -> an APIClient logged in as a new user with that role."""

    from rest_framework.test import APIClient

    from tests.factories import make_staff_user

    def build(role_key: str, *sites, username: str | None = None) -> APIClient:
        user = make_staff_user(role_key=role_key, sites=sites, username=username)
        client = APIClient()
        client.force_authenticate(user=user)
        client.user = user
        return client

    return build


@pytest.fixture
def trial(db, site_a):
    """The seeded protocol, criteria, dose levels and roles; site BJ01 (Asia/Shanghai)."""
    from django.core.management import call_command

    call_command("seed", verbosity=0)
    return site_a


@pytest.fixture
def clock(time_machine):
    """clock(instant): stop the clock at that instant."""

    def move(instant: datetime) -> None:
        time_machine.move_to(instant, tick=False)

    return move
