"""Structured logs: one JSON object per line, each carrying the request id, the user and their sites (or the
Celery task), and no traceback for an expected refusal (a 4xx is an answer, not an error)."""

import logging
import re
import uuid
from contextvars import ContextVar

from django.db import DatabaseError, connection
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from ctit_trial.security.client import current_request

REQUEST_ID_HEADER = "X-Request-ID"
_INCOMING_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")  # a proxy's id is kept only if it cannot forge a log line
request_id: ContextVar[str] = ContextVar("request_id", default="")
task_context: ContextVar[tuple[str, str]] = ContextVar("task_context", default=("", ""))
_reading_sites: ContextVar[bool] = ContextVar("reading_sites", default=False)


class RequestIdMiddleware:
    """First in the chain: every log line of the request carries its id, and the response says it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        rid = incoming if _INCOMING_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = rid
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response[REQUEST_ID_HEADER] = rid
        return response


def _user_sites(request) -> str:
    """The site codes of the request's user (empty for all-sites roles, who belong to none), read once a request."""
    cached = getattr(request, "_log_sites", None)
    if cached is not None:
        return cached
    if _reading_sites.get() or connection.needs_rollback:  # no query from inside a failed transaction
        return ""
    from enrollment.selectors import sites_of_member  # noqa: PLC0415 (apps are loaded after logging is)

    token = _reading_sites.set(True)
    try:
        codes = sorted(sites_of_member(request.user).values_list("code", flat=True))
    except DatabaseError:
        return ""
    finally:
        _reading_sites.reset(token)
    request._log_sites = ",".join(codes)
    return request._log_sites


class ContextFilter(logging.Filter):
    """Adds request_id, user, sites, method and path (in a request) or task and task_id (in a Celery task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Django's own request lines carry the request (some are written after the middleware has returned)
        request = record.__dict__.get("request") or current_request.get()
        record.request_id = getattr(request, "request_id", "") or request_id.get()
        record.task, record.task_id = task_context.get()
        user = getattr(request, "user", None)
        if request is not None:
            record.method, record.path = request.method, request.path
        if user is not None and user.is_authenticated:
            record.user = user.get_username()
            record.sites = _user_sites(request)
        return True


class ClientErrorFilter(logging.Filter):
    """A refused request (4xx) is logged as one line, without the traceback of the exception that answered it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info, record.exc_text = None, None
        return True


class Formatter(JsonFormatter):
    """JSON with the names operators query: time, level, logger, message, then the context fields."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])  # the request's parts are fields already
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%S%z", **kwargs)


def logging_config(*, json: bool, level: str) -> dict:
    """The LOGGING setting: JSON lines (production) or plain lines (a developer's terminal), same filters."""
    formatter = (
        {"()": "ctit_trial.observability.logs.Formatter"}
        if json
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "ctit_trial.observability.logs.ContextFilter"},
            "client_errors": {"()": "ctit_trial.observability.logs.ClientErrorFilter"},
        },
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["context", "client_errors"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "axes": {"level": "WARNING"},  # failures and lockouts, not axes' chatter about each step
            "celery": {"handlers": ["console"], "level": level, "propagate": False},
        },
    }
