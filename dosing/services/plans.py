"""Scheduling the infusion of an enrolled subject, rescheduling it, and the screen failure at the dosing gate."""

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import require_reason, save_audited
from ctit_trial.errors import Conflict, InvalidInput
from dosing import selectors
from dosing.models import DoseLevel, DoseSlot, InfusionPlan
from dosing.rules import gate
from dosing.services.interlock import dosing_interlock
from dosing.services.slots import slot_release
from enrollment.models import Subject
from enrollment.rules.criteria_common import fmt_instant
from enrollment.rules.window import screening_window_problem
from enrollment.selectors import screening_current
from enrollment.services import subject_gate_failure_record, subject_lock


def _locked_enrolled(actor: AbstractBaseUser, subject: Subject) -> Subject:
    subject = subject_lock(actor=actor, subject=subject)
    if subject.status != Subject.Status.ENROLLED:
        raise Conflict(f"{subject} is {subject.get_status_display().lower()}: only an enrolled subject is scheduled.")
    return subject


def planned_at_problem(
    subject: Subject, slot: DoseSlot, planned_at: datetime, *, now: datetime, current: InfusionPlan | None = None
) -> str:
    """Why the infusion cannot be planned at `planned_at` ('' when it can); the caller holds the level's lock."""
    tz, limits = subject.site.zone, selectors.gate_limits()
    d0, today = gate.infusion_day(planned_at, tz), subject.site.local_date(now)
    keeps_d0 = current is not None and current.d_minus_1 + timedelta(days=1) == d0
    screening = screening_current(subject)
    problems = [
        "The planned infusion time must be in the future." if planned_at <= now else "",
        _earliest_problem(slot.dose_level, planned_at, now=now, tz=tz),
        gate.spacing_problem(planned_at=planned_at, others=selectors.spacing_others(subject), limits=limits, tz=tz),
        screening_window_problem(
            screening_date=screening.screening_date, infusion_day=d0, labs_valid_days=limits.screening_labs_valid_days
        )
        or "",
        ""
        if keeps_d0 or d0 - timedelta(days=1) >= today
        else f"D−1 would be {d0 - timedelta(days=1)}, which has passed (today is {today}): choose a later day.",
    ]
    return next((problem for problem in problems if problem), "")


def _earliest_problem(level: DoseLevel, planned_at: datetime, *, now: datetime, tz) -> str:
    earliest = selectors.earliest_dosing_at(level, now=now)
    if planned_at >= earliest:
        return ""
    return (
        f"The earliest allowed infusion at level {level.level} is {fmt_instant(earliest, tz)} "
        f"(the minimum gap after the last infusion and the sentinel observation)."
    )


def _check_planned_at(subject: Subject, slot: DoseSlot, planned_at: datetime, current=None) -> None:
    """The caller holds the slot's level lock (`dosing_interlock`): scheduling at a level is serialised."""
    problem = planned_at_problem(subject, slot, planned_at, now=timezone.now(), current=current)
    if problem:
        raise InvalidInput.for_field("planned_at", problem)


@transaction.atomic
def infusion_schedule(*, actor: AbstractBaseUser, subject: Subject, planned_at: datetime) -> InfusionPlan:
    """Plan the infusion of an enrolled subject; D−1 is derived in the site's calendar."""
    subject = _locked_enrolled(actor, subject)
    if selectors.plan_live(subject) is not None:
        raise Conflict(f"{subject} already has a planned infusion: reschedule it instead.")
    slot = dosing_interlock(subject, step="Scheduling the infusion", now=timezone.now())
    if slot is None:
        raise Conflict(f"{subject} holds no claimed dose slot.")
    _check_planned_at(subject, slot, planned_at)
    plan = InfusionPlan(
        slot=slot, subject=subject, planned_at=planned_at, d_minus_1=gate.d_minus_1(planned_at, subject.site.zone)
    )
    save_audited(plan, actor=actor, reason=f"Infusion scheduled for {fmt_instant(planned_at, subject.site.zone)}")
    return plan


@transaction.atomic
def infusion_reschedule(
    *, actor: AbstractBaseUser, subject: Subject, planned_at: datetime, reason: str | None
) -> InfusionPlan:
    """Move the planned infusion (a new D−1 when the day changes); a blocked plan is scheduled again."""
    reason = require_reason(reason)
    subject = _locked_enrolled(actor, subject)
    slot = dosing_interlock(subject, step="Rescheduling the infusion", now=timezone.now())
    plan = selectors.plan_live_for_update(subject)
    if plan is None:
        raise Conflict(f"{subject} has no planned infusion to reschedule: schedule one.")
    _check_planned_at(subject, slot, planned_at, current=plan)
    was = fmt_instant(plan.planned_at, subject.site.zone)
    plan.planned_at, plan.d_minus_1 = planned_at, gate.d_minus_1(planned_at, subject.site.zone)
    plan.status, plan.blocked_reason = InfusionPlan.Status.SCHEDULED, ""
    save_audited(
        plan, actor=actor, reason=f"Rescheduled from {was} to {fmt_instant(planned_at, subject.site.zone)}: {reason}"
    )
    return plan


@transaction.atomic
def infusion_gate_fail(*, actor: AbstractBaseUser, subject: Subject, reason: str | None):
    """Screen failure at the dosing gate: the plan is cancelled and the slot released for the next subject."""
    reason = require_reason(reason)
    subject = _locked_enrolled(actor, subject)
    plan = selectors.plan_live_for_update(subject)
    slot = plan.slot if plan else selectors.dosing_day.claimed_slot(subject)
    criteria = _failed_criteria(plan) if plan else []
    if plan is not None:
        plan.status = InfusionPlan.Status.CANCELLED
        save_audited(plan, actor=actor, reason=f"Screen failure at the dosing gate: {reason}")
    slot_release(actor=actor, slot=slot, reason=f"Screen failure at the dosing gate: {reason}")
    return subject_gate_failure_record(actor=actor, subject=subject, reason=reason, criteria=criteria)


def _failed_criteria(plan: InfusionPlan) -> list[str]:
    """The eligibility criteria behind a gate failure: IN2 for the D−1 count or bleeding, and the D0 re-checks."""
    items = selectors.pre_infusion_checklist(plan)
    codes = {"D-1": "IN2", "IN3": "IN3", "EX5": "EX5", "EX10": "EX10"}
    return sorted({codes[item.code] for item in items if item.status == "fail" and item.code in codes})
