"""Opt-in error reports to Sentry (SENTRY_DSN): unexpected exceptions of the web app and the worker, never the
clinical data around them — no request bodies, cookies, headers or query strings, no local variables, and the
user by id only."""

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

KEPT_REQUEST_FIELDS = ("method", "url")  # the URL without its query string (see _scrubbed)


def _scrubbed(event: dict, hint: dict) -> dict:
    request = event.get("request")
    if request:
        event["request"] = {name: request[name] for name in KEPT_REQUEST_FIELDS if name in request}
        if "url" in event["request"]:
            event["request"]["url"] = event["request"]["url"].split("?", 1)[0]
    if "user" in event:
        event["user"] = {"id": event["user"].get("id")}
    event.pop("extra", None)
    return event


def error_reports_start(*, dsn: str, environment: str, release: str, traces_sample_rate: float, transport=None):
    """Start reporting (called from settings when SENTRY_DSN is set; `transport` lets a test capture events)."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        before_send=_scrubbed,
        transport=transport,
    )
