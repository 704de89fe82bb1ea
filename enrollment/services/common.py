"""Pieces the enrollment services share: the subject row lock, status changes, collected field errors.

`subject_lock` and `subject_status_change` are public (exported by `enrollment.services`): dosing and safety move a
subject through its journey with them, never by writing `Subject.status` themselves (ADR 0013).
"""

from django.contrib.auth.models import AbstractBaseUser

from ctit_trial.audit import save_audited
from ctit_trial.errors import Conflict, raise_if_any  # noqa: F401 (services import it from here)
from enrollment.models import SUBJECT_TRANSITIONS, Subject
from enrollment.selectors import require_site_member, subject_for_update


def subject_lock(*, actor: AbstractBaseUser, subject: Subject) -> Subject:
    """Row-lock the subject (the guard of its status) once the actor is known to work at its site."""
    require_site_member(actor, subject.site)
    return subject_for_update(subject)


def check_transition(subject: Subject, to: str) -> None:
    """Refuse (409) a status change the allowed-transitions table does not list."""
    if not subject.can_become(to):
        allowed = ", ".join(f"'{status}'" for status in SUBJECT_TRANSITIONS[subject.status]) or "none"
        raise Conflict(f"{subject} has status '{subject.status}' and cannot become '{to}' (allowed next: {allowed}).")


def subject_status_change(*, actor: AbstractBaseUser, subject: Subject, to: str, reason: str, **changes) -> Subject:
    """Move a locked subject to another status when the allowed-transitions table permits it (else 409)."""
    check_transition(subject, to)
    subject.status = to
    for field, value in changes.items():
        setattr(subject, field, value)
    save_audited(subject, actor=actor, reason=reason)
    return subject
