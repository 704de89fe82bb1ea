"""The one place domain and framework errors become HTTP responses of the standard shape."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ctit_trial.errors import NON_FIELD, DomainError, constraint_conflict

logger = logging.getLogger(__name__)

__all__ = ["NON_FIELD", "error_body", "exception_handler"]


def error_body(detail: str, errors: dict | None = None) -> dict:
    """`{"detail": ..., "errors": {field: [messages]}}` — every error response has this shape."""
    return {"detail": detail, "errors": errors or {}}


def _flatten(errors, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error structure into dotted field paths with lists of messages."""
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            name = NON_FIELD if key in ("__all__", NON_FIELD) and not prefix else str(key)
            flat.update(_flatten(value, f"{prefix}.{name}" if prefix else name))
        return flat
    if isinstance(errors, list) and errors and all(isinstance(e, dict | list) for e in errors):
        flat = {}
        for index, value in enumerate(errors):
            flat.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    messages = errors if isinstance(errors, list) else [errors]
    return {prefix or NON_FIELD: [str(m) for m in messages]}


def _summary(errors: dict[str, list[str]]) -> str:
    field, messages = next(iter(errors.items()))
    return messages[0] if field == NON_FIELD else f"{field}: {messages[0]}"


def exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER: map every known error to the standard body; unknown ones stay 500."""
    if isinstance(exc, IntegrityError):  # a race the services' checks could not see: the database refused
        logger.warning("Write refused by the database: %s", exc)
        exc = constraint_conflict(exc)
    if isinstance(exc, DomainError):
        return Response(error_body(exc.message, exc.errors), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = _flatten(exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD: exc.messages})
        return Response(error_body(_summary(errors), errors), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        response.data = error_body(_summary(errors), errors)
    else:
        response.data = error_body(str(exc.detail))
    return response
