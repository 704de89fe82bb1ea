"""Request limits checked before any view (API body size, query strings, paths); API errors always in JSON;
admin pages in site-local time."""

from http import HTTPStatus
from urllib.parse import unquote_to_bytes
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.http import HttpResponse, JsonResponse

from ctit_trial.api.exceptions import NON_FIELD, error_body
from ctit_trial.api.parsers import NUL_MESSAGE, UTF8_MESSAGE, printable, text_problem
from ctit_trial.site_time import UTC_ZONE, working_zone
from enrollment.selectors import sites_of_member, sites_visible_to

API_PREFIX = "/api/"


def _decoded(raw: bytes) -> tuple[str, str | None]:
    """A percent-encoded query part as text, with why it cannot be accepted (or None)."""
    data = unquote_to_bytes(raw.replace(b"+", b" "))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), UTF8_MESSAGE
    return text, text_problem(text)


def query_string_errors(query_string: bytes) -> dict[str, list[str]]:
    """Every query parameter that is not valid UTF-8, holds a NUL or is over-long, by name."""
    errors: dict[str, list[str]] = {}
    for part in query_string.split(b"&"):
        raw_name, _, raw_value = part.partition(b"=")
        name, name_problem = _decoded(raw_name)
        _, value_problem = _decoded(raw_value)
        if name_problem or value_problem:
            errors.setdefault(printable(name) or NON_FIELD, []).append(name_problem or value_problem)
    return errors


def header_errors(meta: dict) -> dict[str, list[str]]:
    """Request headers holding a NUL (the token or session lookup would hand it to the database), by name."""
    return {
        key[5:].replace("_", "-").title(): [NUL_MESSAGE]
        for key, value in meta.items()
        if key.startswith("HTTP_") and isinstance(value, str) and "\x00" in value
    }


def as_json_error(response: HttpResponse) -> HttpResponse:
    """Django's own HTML 4xx pages (unknown URL, wrong method) in the API's error shape."""
    is_json = response.get("Content-Type", "").startswith("application/json")
    if is_json or not 400 <= response.status_code < 500:
        return response
    json_response = JsonResponse(error_body(f"{HTTPStatus(response.status_code).phrase}."), status=response.status_code)
    for header in ("Allow", "Retry-After"):
        if header in response:
            json_response[header] = response[header]
    return json_response


class RequestLimitsMiddleware:
    """413 for an API body over DATA_UPLOAD_MAX_MEMORY_SIZE; 400 for an unsafe query string, path or header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        is_api = request.path_info.startswith(API_PREFIX)
        refusal = (self.oversized_body(request) if is_api else None) or self.unsafe_input(request, is_api)
        response = refusal or self.get_response(request)
        return as_json_error(response) if is_api else response

    def oversized_body(self, request) -> HttpResponse | None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is None or length <= limit:
            return None
        message = f"The request body is {length} bytes; at most {limit} bytes are accepted."
        return JsonResponse(error_body(message, {NON_FIELD: [message]}), status=413)

    def unsafe_input(self, request, is_api: bool) -> HttpResponse | None:
        errors = query_string_errors(get_bytes_from_wsgi(request.META, "QUERY_STRING", ""))
        if "\x00" in request.path_info:
            errors = {"path": [NUL_MESSAGE], **errors}
        errors = {**header_errors(request.META), **errors}
        if not errors:
            return None
        field, messages = next(iter(errors.items()))
        detail = f"{field}: {messages[0]}"
        if is_api:
            return JsonResponse(error_body(detail, errors), status=400)
        return HttpResponse(detail, status=400, content_type="text/plain; charset=utf-8")


def zone_of_user(user) -> ZoneInfo:
    """The one zone of the sites the user works at (or sees); UTC when there are several or none."""
    if not getattr(user, "is_authenticated", False):
        return UTC_ZONE
    for sites in (sites_of_member(user), sites_visible_to(user)):
        zones = set(sites.values_list("time_zone", flat=True))
        if len(zones) == 1:
            return ZoneInfo(zones.pop())
        if zones:
            return UTC_ZONE
    return UTC_ZONE


class AdminTimeZoneMiddleware:
    """Admin pages read and show date-times in the user's site-local zone (a record's page: its site's zone).

    The whole response renders inside the zone, templates included; the API keeps answering in UTC.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/admin/"):
            return self.get_response(request)
        with working_zone(zone_of_user(request.user)):
            response = self.get_response(request)
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response
