"""The request made visible to services (lockout checks), and the admin session's idle timeout."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.utils import timezone

from ctit_trial.security.attempts import failures_flush
from ctit_trial.security.client import current_request

LAST_SEEN = "ctit_last_seen"


class RequestContextMiddleware:
    """Puts the request in a context variable for the services; writes their failed attempts afterwards."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
            failures_flush(request)


class SessionIdleTimeoutMiddleware:
    """Logs a session out after SESSION_IDLE_TIMEOUT without a request; each request extends it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = timezone.now().timestamp()
            last_seen = request.session.get(LAST_SEEN, now)
            if now - last_seen > settings.SESSION_IDLE_TIMEOUT.total_seconds():
                logout(request)
                minutes = int(settings.SESSION_IDLE_TIMEOUT.total_seconds() // 60)
                messages.info(request, f"You were logged out after {minutes} minutes without activity.")
            else:
                request.session[LAST_SEEN] = now
        return self.get_response(request)
