"""Pieces the enrollment services share: the subject row lock, status transitions, collected field errors."""

from django.contrib.auth.models import AbstractBaseUser

from ctit_trial.audit import save_audited
from ctit_trial.errors import Conflict, InvalidInput, PermissionDenied
from enrollment.models import SUBJECT_TRANSITIONS, Subject
from enrollment.selectors import sites_of_member


def subject_lock(*, actor: AbstractBaseUser, subject: Subject) -> Subject:
    """Row-lock the subject (the guard of its status) once the actor is known to work at its site."""
    if not sites_of_member(actor).filter(pk=subject.site_id).exists():
        raise PermissionDenied(f"You are not a member of site {subject.site.code}.")
    return Subject.objects.select_for_update(of=("self",)).select_related("site").get(pk=subject.pk)


def check_transition(subject: Subject, to: str) -> None:
    """Refuse (409) a status change the allowed-transitions table does not list."""
    if not subject.can_become(to):
        allowed = ", ".join(f"'{status}'" for status in SUBJECT_TRANSITIONS[subject.status]) or "none"
        raise Conflict(f"{subject} has status '{subject.status}' and cannot become '{to}' (allowed next: {allowed}).")


def subject_transition(*, actor: AbstractBaseUser, subject: Subject, to: str, reason: str, **changes) -> Subject:
    """Move a locked subject to another status when the allowed-transitions table permits it (else 409)."""
    check_transition(subject, to)
    subject.status = to
    for field, value in changes.items():
        setattr(subject, field, value)
    save_audited(subject, actor=actor, reason=reason)
    return subject


def raise_if_any(errors: dict[str, str | None]) -> None:
    """Refuse with every field's message at once (HTTP 400), if there is any."""
    found = {field: [message] for field, message in errors.items() if message}
    if found:
        raise InvalidInput(next(iter(found.values()))[0], errors=found)
