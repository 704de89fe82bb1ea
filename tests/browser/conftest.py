"""Real-browser fixtures: the app in a live server, headless Debian Chromium, and an admin login helper."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# Playwright's sync API keeps an event loop in the test thread; Django's ORM calls from the test are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "1")


@pytest.fixture(scope="session")
def _plain_http():
    """The live server's middleware is built once, at its start: build it without the HTTPS redirect."""
    from django.conf import settings

    redirect = settings.SECURE_SSL_REDIRECT
    settings.SECURE_SSL_REDIRECT = False
    yield
    settings.SECURE_SSL_REDIRECT = redirect


@pytest.fixture(scope="session")
def live_server(_plain_http, live_server):
    """pytest-django's live server (it makes its tests use transactional_db), over plain HTTP."""
    return live_server


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test process (Debian's, never a downloaded one)."""
    if not shutil.which(CHROMIUM):
        reason = f"needs Debian's chromium at {CHROMIUM}: apt-get install -y --no-install-recommends chromium"
        from django.conf import settings

        if settings.CI_REQUIRE_SERVICES:
            pytest.fail(f"{reason} (CTIT_REQUIRE_SERVICES=1: this test must run in CI)", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context and page per test, its relative URLs on the live server."""
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def staff_user(live_server, roles, site_a):
    """staff_user(role_key, sites=[BJ01]) -> a new staff user with that role and a confirmed authenticator app."""
    from tests.factories import make_staff_user
    from tests.second_factor import enrol_totp

    def build(role_key: str, *, sites=None, username: str | None = None):
        user = make_staff_user(role_key=role_key, sites=[site_a] if sites is None else sites, username=username)
        user.totp_device = enrol_totp(user)
        return user

    return build


def login(page, user, password: str | None = None) -> None:
    """Log in at /admin/login/ with the password and, for an enrolled user, the current one-time code."""
    from tests.factories import PASSWORD
    from tests.second_factor import current_code

    page.goto("/admin/login/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", password or PASSWORD)
    device = getattr(user, "totp_device", None)
    if device is not None:
        page.fill("#id_otp_token", current_code(device))
    with page.expect_navigation():  # the next goto must not cancel the login's POST
        page.click("input[type=submit]")


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG to var/screenshots/<name>.png (gitignored) and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
