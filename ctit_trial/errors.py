"""Domain errors raised by services; one API exception handler maps them to HTTP (never imports DRF)."""

from collections.abc import Mapping, Sequence
from functools import cache

from django.apps import apps

NON_FIELD = "non_field_errors"  # the `errors` key of a message about the request as a whole


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 400

    def __init__(self, message: str, *, errors: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = {field: list(messages) for field, messages in (errors or {}).items()}


class InvalidInput(DomainError):
    """The request is malformed or breaks a validation rule (HTTP 400)."""

    @classmethod
    def for_field(cls, field: str, message: str) -> "InvalidInput":
        return cls(message, errors={field: [message]})


class PermissionDenied(DomainError):
    """The caller's role does not allow this action (HTTP 403)."""

    status_code = 403


class NotVisible(DomainError):
    """The object does not exist for this caller: another site's, or absent (HTTP 404)."""

    status_code = 404


class Conflict(DomainError):
    """The action is valid but the current state refuses it (HTTP 409)."""

    status_code = 409


def raise_if_any(errors: Mapping[str, str | None]) -> None:
    """Refuse with every field's message at once (HTTP 400), if there is any."""
    found = {field: [message] for field, message in errors.items() if message}
    if found:
        raise InvalidInput(next(iter(found.values()))[0], errors=found)


CONCURRENT_CHANGE = (
    "The change conflicts with data saved at the same moment (another user or a second click): "
    "reload the page, check the record and try again."
)


def constraint_conflict(error: Exception) -> Conflict:
    """A database refusal (IntegrityError) as a 409 in words: the violated constraint's message, never its name."""
    name = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    return Conflict(_constraint_messages().get(name, CONCURRENT_CHANGE))


@cache
def _constraint_messages() -> dict[str, str]:
    """Each model constraint's name -> its violation message (the words a user reads)."""
    return {
        constraint.name: constraint.get_violation_error_message()
        for model in apps.get_models()
        for constraint in model._meta.constraints
    }
