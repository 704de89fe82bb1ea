"""Pieces the safety services share: site membership, row locks, collected field errors."""

from django.contrib.auth.models import AbstractBaseUser

from ctit_trial.errors import InvalidInput, PermissionDenied
from enrollment.models import Subject
from enrollment.selectors import sites_of_member


def require_site_member(actor: AbstractBaseUser, subject: Subject) -> None:
    """Only staff working at the subject's site change its clinical data (HTTP 403 otherwise)."""
    if not sites_of_member(actor).filter(pk=subject.site_id).exists():
        raise PermissionDenied(f"You are not a member of site {subject.site.code}.")


def subject_lock(subject: Subject) -> Subject:
    """Row-lock the subject: the guard of its visit schedule and its lab-graded AE episodes."""
    return Subject.objects.select_for_update(of=("self",)).select_related("site").get(pk=subject.pk)


def raise_if_any(errors: dict[str, str | None]) -> None:
    """Refuse with every field's message at once (HTTP 400), if there is any."""
    found = {field: [message] for field, message in errors.items() if message}
    if found:
        raise InvalidInput(next(iter(found.values()))[0], errors=found)
