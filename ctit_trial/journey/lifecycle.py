"""A subject leaving the trial early (withdrawal of consent, loss to follow-up, death, investigator decision):
enrollment's record and status change, the dose slot of a subject not yet dosed, and safety's visits and reminders,
in one transaction. The escalation path reads the record itself (`dosing.selectors.escalation.dosed_subjects`)."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ctit_trial.errors import Conflict
from dosing import services as dosing_services
from dosing.models import Infusion
from enrollment import services as enrollment_services
from enrollment.models import Discontinuation, Subject
from safety import selectors as safety_selectors
from safety import services as safety_services


@transaction.atomic
def subject_discontinue(
    *, actor: AbstractBaseUser, subject: Subject, kind: str, left_at: datetime, reason: str | None
) -> Discontinuation:
    """Record that an enrolled or dosed subject left (else 400, 403 or 409); what it no longer needs is closed."""
    subject = enrollment_services.subject_discontinuation_check(actor=actor, subject=subject)
    infusion = Infusion.objects.filter(subject=subject).first()
    if kind == Discontinuation.Kind.DEATH:
        _require_fatal_event(subject, left_at)
    record = enrollment_services.subject_discontinue(
        actor=actor,
        subject=subject,
        kind=kind,
        left_at=left_at,
        reason=reason,
        infused_at=infusion.started_at if infusion else None,
    )
    why = f"{record.get_kind_display()}: {record.reason}"
    if infusion is None:
        dosing_services.infusion_withdraw(actor=actor, subject=subject, reason=why)
    safety_services.visits_close_for_discontinuation(actor=actor, subject=subject, reason=why)
    safety_services.notifications_cancel_for_subject(subject=subject, reason=why)
    return record


def _require_fatal_event(subject: Subject, died_at: datetime) -> None:
    """A death is recorded after its fatal (grade 5) AE, so the SAE's 24-hour report clock is already running."""
    day = subject.site.local_date(died_at)
    if safety_selectors.fatal_event_of(subject, on_or_before=day) is None:
        raise Conflict(
            f"Record the fatal (grade 5) adverse event of {subject} with onset on or before {day} first: a death is "
            f"a serious adverse event, reported to the sponsor within 24 hours of awareness."
        )
