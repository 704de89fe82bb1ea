"""Pieces the safety services share: site membership, the subject row lock, collected field errors."""

from django.contrib.auth.models import AbstractBaseUser

from ctit_trial.errors import raise_if_any  # noqa: F401 (services import it from here)
from enrollment import selectors as enrollment_selectors
from enrollment.models import Subject


def require_site_member(actor: AbstractBaseUser, subject: Subject) -> None:
    """Only staff working at the subject's site change its clinical data (HTTP 403 otherwise)."""
    enrollment_selectors.require_site_member(actor, subject.site)


def subject_lock(subject: Subject) -> Subject:
    """Row-lock the subject: the guard of its visit schedule and its lab-graded AE episodes."""
    return enrollment_selectors.subject_for_update(subject)
