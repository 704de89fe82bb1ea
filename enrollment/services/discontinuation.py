"""A subject leaving the trial early: withdrawal of consent, loss to follow-up, death or an investigator's decision.

Leaving also touches dosing (the slot of a subject not yet dosed) and safety (visits, reminders, the fatal AE), so
the act is the journey's (`ctit_trial.journey.subject_discontinue`): this check, the journey's own checks, then
`subject_discontinue`, in one transaction.
"""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import require_reason, save_audited
from ctit_trial.errors import Conflict, PermissionDenied
from enrollment.models import Discontinuation, Subject
from enrollment.roles import Act, may
from enrollment.rules.criteria_common import fmt_instant
from enrollment.services.common import raise_if_any, subject_lock, subject_status_change

Status = Subject.Status
NOT_DISCONTINUABLE = {
    Status.SCREENING: "is in screening: a subject who does not go on to enrollment is recorded as a screen failure, "
    "with the reason",
    Status.SCREEN_FAILED: "is a screen failure, not in the trial: there is nothing to discontinue",
    Status.COMPLETED: "has completed the follow-up (closed out): there is nothing to discontinue",
}


@transaction.atomic
def subject_discontinuation_check(*, actor: AbstractBaseUser, subject: Subject) -> Subject:
    """Lock a subject and refuse unless the actor may record its discontinuation and it is enrolled or dosed."""
    if not may(actor, Act.DISCONTINUE_SUBJECT):
        raise PermissionDenied("Your role does not allow you to record a withdrawal, loss to follow-up or death.")
    subject = subject_lock(actor=actor, subject=subject)
    earlier = Discontinuation.objects.filter(subject=subject).first()
    if earlier is not None:
        raise Conflict(
            f"{subject} has already left the trial: {earlier.get_kind_display().lower()} on {earlier.left_on}, "
            f"recorded {earlier.recorded_at:%Y-%m-%d %H:%M} UTC."
        )
    if subject.status in NOT_DISCONTINUABLE:
        raise Conflict(f"{subject} {NOT_DISCONTINUABLE[subject.status]}.")
    if subject.status == Status.WITHDRAWN:
        raise Conflict(f"{subject} is already withdrawn.")
    return subject


def left_at_problem(subject: Subject, left_at: datetime, *, infused_at: datetime | None) -> str | None:
    """Why `left_at` cannot be when the subject left: in the future, before consent, before the infusion."""
    tz, consent = subject.site.zone, subject.consents.order_by("signed_at").first()
    if left_at > timezone.now():
        return "The time the subject left cannot be in the future."
    if consent is not None and left_at < consent.signed_at:
        return f"The subject cannot have left before consenting ({fmt_instant(consent.signed_at, tz)})."
    if infused_at is not None and left_at < infused_at:
        return f"The subject was dosed at {fmt_instant(infused_at, tz)}: it cannot have left before the infusion."
    return None


@transaction.atomic
def subject_discontinue(
    *,
    actor: AbstractBaseUser,
    subject: Subject,
    kind: str,
    left_at: datetime,
    reason: str | None,
    infused_at: datetime | None,
) -> Discontinuation:
    """Record that an enrolled or dosed subject left (`infused_at`: its infusion's start, if dosed); it is withdrawn."""
    subject = subject_discontinuation_check(actor=actor, subject=subject)
    kinds = Discontinuation.Kind
    raise_if_any(
        {
            "kind": None if kind in kinds.values else f"'{kind}' is not one of: {', '.join(kinds.values)}.",
            "left_at": left_at_problem(subject, left_at, infused_at=infused_at),
        }
    )
    reason = require_reason(reason)
    record = Discontinuation(
        subject=subject, kind=kind, left_at=left_at, reason=reason, recorded_by=actor, recorded_at=timezone.now()
    )
    label = kinds(kind).label
    save_audited(record, actor=actor, reason=f"{label} recorded: {reason}")
    subject_status_change(actor=actor, subject=subject, to=Status.WITHDRAWN, reason=f"{label}: {reason}")
    return record
