"""The dosing day's acts that reach into safety follow-up: the infusion opens the visit schedule and records the D0
visit; a reschedule or a gate failure cancels the reminders that no longer apply."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from dosing import selectors as dosing_selectors
from dosing import services as dosing_services
from dosing.models import Infusion, InfusionPlan
from enrollment.models import ScreenFailure, Subject
from safety import services as safety_services


@transaction.atomic
def infusion_record(*, actor: AbstractBaseUser, subject: Subject, **data) -> Infusion:
    """Record the infusion (dosing's checks), then the visit schedule from D0 and the D0 visit with its baseline."""
    infusion = dosing_services.infusion_record(actor=actor, subject=subject, **data)
    visits = safety_services.visit_schedule_create(actor=actor, infusion=infusion)
    assessment = dosing_selectors.dosing_day.assessment_of(infusion.slot.plan)
    d0_visit = next(visit for visit in visits if visit.definition.target_day == 0)
    safety_services.visit_record(
        actor=actor,
        visit=d0_visit,
        visit_date=infusion.subject.site.local_date(infusion.started_at),
        platelets=assessment.baseline_platelets,
        ae_review_done=False,
    )
    return infusion


@transaction.atomic
def infusion_reschedule(*, actor: AbstractBaseUser, subject: Subject, **data) -> InfusionPlan:
    """Move the planned infusion; the pending dosing-day reminders of the old plan are cancelled."""
    plan = dosing_services.infusion_reschedule(actor=actor, subject=subject, **data)
    safety_services.notifications_cancel_for_subject(subject=subject, reason=f"Infusion rescheduled: {data['reason']}")
    return plan


@transaction.atomic
def infusion_gate_fail(*, actor: AbstractBaseUser, subject: Subject, reason: str | None) -> ScreenFailure:
    """Screen failure at the dosing gate (plan cancelled, slot released); its pending reminders are cancelled."""
    failure = dosing_services.infusion_gate_fail(actor=actor, subject=subject, reason=reason)
    safety_services.notifications_cancel_for_subject(
        subject=subject, reason=f"Screen failure at the dosing gate: {failure.reason}"
    )
    return failure
