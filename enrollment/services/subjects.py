"""A subject's direct identifiers and informed consents."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import require_reason, save_audited
from ctit_trial.errors import Conflict
from enrollment.models import Consent, Subject, SubjectIdentity
from enrollment.selectors import sites_of_member
from enrollment.services.common import raise_if_any, subject_lock

IDENTITY_FIELDS = ("full_name", "national_id", "phone", "email")


@transaction.atomic
def identity_save(
    *, actor: AbstractBaseUser, subject: Subject, reason: str | None = None, **values: str
) -> SubjectIdentity:
    """Record a subject's direct identifiers, or correct them with a reason for change."""
    subject = subject_lock(actor=actor, subject=subject)
    identity = SubjectIdentity.objects.select_for_update().filter(subject=subject).first()
    if identity is None:
        identity = SubjectIdentity(subject=subject, **values)
        save_audited(identity, actor=actor, reason="Identifiers recorded")
        return identity
    reason = require_reason(reason)
    changed = {field: value for field, value in values.items() if getattr(identity, field) != value}
    if changed:
        for field, value in changed.items():
            setattr(identity, field, value)
        save_audited(identity, actor=actor, reason=reason)
    return identity


@transaction.atomic
def consent_record(
    *,
    actor: AbstractBaseUser,
    subject: Subject,
    version: str,
    signed_at: datetime,
    obtained_by: AbstractBaseUser | None = None,
) -> Consent:
    """Record the subject's signed informed consent; its site-local date is the IN1 reference."""
    subject = subject_lock(actor=actor, subject=subject)
    if subject.status == Subject.Status.WITHDRAWN:
        raise Conflict(f"{subject} has withdrawn from the trial: no consent can be recorded.")
    obtained_by = obtained_by or actor
    works_there = obtained_by.is_active and sites_of_member(obtained_by).filter(pk=subject.site_id).exists()
    raise_if_any(
        {
            "signed_at": "Consent cannot be signed in the future." if signed_at > timezone.now() else None,
            "obtained_by": None if works_there else f"{obtained_by} does not work at site {subject.site.code}.",
        }
    )
    consent = Consent(
        subject=subject,
        version=version,
        signed_at=signed_at,
        obtained_by=obtained_by,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    save_audited(consent, actor=actor, reason="Informed consent recorded")
    return consent
