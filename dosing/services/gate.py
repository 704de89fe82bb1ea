"""The dosing gate's records: the D−1 platelet reconfirmation and the D0 pre-infusion assessment."""

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import save_audited
from ctit_trial.errors import Conflict, raise_if_any
from dosing import selectors
from dosing.models import InfusionPlan, PreInfusionAssessment, Reconfirmation
from dosing.rules import gate
from dosing.services.interlock import dosing_interlock
from enrollment.models import Subject
from enrollment.services import subject_lock


def _scheduled_plan(actor: AbstractBaseUser, subject: Subject, *, step: str) -> InfusionPlan:
    """The subject's plan, locked, when it is scheduled (a blocked plan must be rescheduled first) and the engine
    still allows dosing at its level."""
    subject = subject_lock(actor=actor, subject=subject)
    dosing_interlock(subject, step=step, now=timezone.now())
    plan = selectors.plan_live_for_update(subject)
    if plan is None:
        raise Conflict(f"{subject} has no planned infusion: schedule it first.")
    if plan.status == InfusionPlan.Status.BLOCKED:
        raise Conflict(f"The infusion of {subject} is blocked: {plan.blocked_reason}")
    plan.subject = subject
    return plan


def _future(instant: datetime | None, now: datetime) -> str | None:
    return "This time is in the future." if instant is not None and instant > now else None


def reconfirmation_errors(
    *, drawn_at: datetime, platelets: Decimal, bleeding: bool, bleeding_details: str, d_minus_1: date, tz
) -> dict[str, str | None]:
    """What is wrong with a D−1 result, field by field (recording it or correcting it)."""
    return {
        "drawn_at": _future(drawn_at, timezone.now())
        or gate.draw_day_problem(drawn_at=drawn_at, d_minus_1_day=d_minus_1, tz=tz),
        "platelets": "A platelet count cannot be negative." if platelets < 0 else None,
        "bleeding_details": "Describe the bleeding." if bleeding and not bleeding_details.strip() else None,
    }


@transaction.atomic
def reconfirmation_record(
    *,
    actor: AbstractBaseUser,
    subject: Subject,
    drawn_at: datetime,
    platelets: Decimal,
    bleeding: bool,
    bleeding_details: str = "",
) -> Reconfirmation:
    """Record the D−1 count and bleeding assessment; out of range or bleeding blocks the infusion."""
    plan = _scheduled_plan(actor, subject, step="The D−1 reconfirmation")
    tz, now = plan.subject.site.zone, timezone.now()
    platelets = Decimal(platelets).quantize(Decimal("0.1"))  # as stored, so every entry route reads the same
    raise_if_any(
        reconfirmation_errors(
            drawn_at=drawn_at,
            platelets=platelets,
            bleeding=bleeding,
            bleeding_details=bleeding_details,
            d_minus_1=plan.d_minus_1,
            tz=tz,
        )
    )
    if plan.reconfirmations.filter(d_minus_1=plan.d_minus_1).exists():
        raise Conflict(f"The D−1 ({plan.d_minus_1}) reconfirmation of {plan.subject} is already recorded.")
    outcome = gate.reconfirmation_outcome(platelets=platelets, bleeding=bleeding, limits=selectors.gate_limits())
    record = Reconfirmation(
        plan=plan,
        d_minus_1=plan.d_minus_1,
        drawn_at=drawn_at,
        platelets=platelets,
        bleeding=bleeding,
        bleeding_details=bleeding_details.strip(),
        cleared=outcome.ok,
        outcome_reason=outcome.reason,
        recorded_by=actor,
        recorded_at=now,
    )
    save_audited(record, actor=actor, reason=f"D−1 reconfirmation recorded: {outcome.reason}")
    if not outcome.ok:
        plan.status, plan.blocked_reason = InfusionPlan.Status.BLOCKED, f"D−1 {plan.d_minus_1}: {outcome.reason}"
        save_audited(plan, actor=actor, reason="Infusion blocked at the D−1 reconfirmation")
    return record


@transaction.atomic
def assessment_record(
    *,
    actor: AbstractBaseUser,
    subject: Subject,
    baseline_platelets: Decimal,
    baseline_drawn_at: datetime,
    transfusion_since_screening_at: datetime | None,
    thrombopoietic_since_screening_on: date | None,
    surgery_since_screening_on: date | None,
) -> PreInfusionAssessment:
    """Record the D0 pre-infusion assessment: the baseline count and what happened since screening."""
    plan = _scheduled_plan(actor, subject, step="The D0 pre-infusion assessment")
    d0 = plan.d_minus_1 + timedelta(days=1)
    values = {
        "baseline_platelets": baseline_platelets,
        "baseline_drawn_at": baseline_drawn_at,
        "transfusion_since_screening_at": transfusion_since_screening_at,
        "thrombopoietic_since_screening_on": thrombopoietic_since_screening_on,
        "surgery_since_screening_on": surgery_since_screening_on,
    }
    now = timezone.now()
    raise_if_any(assessment_errors(values, d0=d0, site=plan.subject.site, now=now))
    if plan.assessments.filter(d0=d0).exists():
        raise Conflict(f"The D0 ({d0}) pre-infusion assessment of {plan.subject} is already recorded.")
    assessment = PreInfusionAssessment(plan=plan, d0=d0, recorded_by=actor, recorded_at=now, **values)
    save_audited(assessment, actor=actor, reason="D0 pre-infusion assessment recorded")
    return assessment


def assessment_errors(values: dict, *, d0: date, site, now: datetime) -> dict[str, str | None]:
    """What is wrong with a D0 assessment, field by field (recording it or correcting it)."""
    drawn, today = values["baseline_drawn_at"], site.local_date(now)
    return {
        "baseline_drawn_at": _future(drawn, now)
        or (
            f"The baseline is drawn on D0 ({d0}); this was drawn on {site.local_date(drawn)}."
            if site.local_date(drawn) != d0
            else None
        ),
        "baseline_platelets": "A platelet count cannot be negative." if values["baseline_platelets"] < 0 else None,
        "transfusion_since_screening_at": _future(values["transfusion_since_screening_at"], now),
        "thrombopoietic_since_screening_on": _future_day(values["thrombopoietic_since_screening_on"], today),
        "surgery_since_screening_on": _future_day(values["surgery_since_screening_on"], today),
    }


def _future_day(day: date | None, today: date) -> str | None:
    return f"This date is after today ({today})." if day is not None and day > today else None
