"""Failed logins and signatures counted by django-axes: refused while locked out, recorded after the request.

A signature is checked inside its service's transaction, which rolls back when the signature is refused; the
failure is therefore only noted on the request and written by RequestContextMiddleware once the view is done.
"""

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from ctit_trial.errors import DomainError
from ctit_trial.security.client import current_request

PENDING_FAILURES = "ctit_pending_failures"


class LockedOut(DomainError):
    """Too many failed attempts for this username from this address (HTTP 429)."""

    status_code = 429


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return f"Too many failed attempts: logging in and signing are refused for {minutes} minutes."


def lockout_response(request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None):
    """AXES_LOCKOUT_CALLABLE: the standard error body on the API, a page in the admin."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message(), "errors": {}}, status=429)
    context = {"title": "Locked out", "message": lockout_message(), "site_header": "XJ-MK-002 trial administration"}
    return render(request, "security/locked_out.html", context, status=429)


def _request() -> HttpRequest:
    """The request being served, or a bare one (no address) outside a request."""
    return current_request.get() or HttpRequest()


def refuse_if_locked_out(username: str) -> None:
    """Raise LockedOut while this username (from this address) is locked out."""
    if settings.AXES_ENABLED and AxesProxyHandler.is_locked(_request(), {"username": username}):
        raise LockedOut(lockout_message())


def failure_record(username: str) -> None:
    """Count a failed password or one-time code: noted now, written when the request is done."""
    request = current_request.get()
    if request is None:
        user_login_failed.send(sender=__name__, credentials={"username": username}, request=HttpRequest())
        return
    setattr(request, PENDING_FAILURES, [*getattr(request, PENDING_FAILURES, []), username])


def failures_flush(request: HttpRequest) -> None:
    """Write the failures noted during the request (outside any transaction of the view)."""
    for username in request.__dict__.pop(PENDING_FAILURES, []):
        user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)
