"""Corrections of recorded dosing-day data: the D−1 reconfirmation, the D0 assessment, the infusion's times and its
vital signs. Each takes a reason, re-checks what the original passed, re-derives what depends on it (the plan's
block, the draws' deviations) and writes one `DosingDayCorrection` row beside the record's own history.

A correction that would make an already accepted step invalid (a D−1 count that would not have cleared, a D0
assessment or an infusion start that breaks the checklist, the gap or the sentinel) is refused unless the caller
gives a deviation reason: the data is then corrected and the deviation recorded. The visit schedule and the DLT
flags that follow a new D0 are re-derived by the journey (`ctit_trial.journey.infusion_times_correct`).
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone

from ctit_trial.audit import require_reason, save_audited
from ctit_trial.errors import Conflict, InvalidInput, raise_if_any
from dosing import selectors
from dosing.models import (
    DoseLevel,
    DosingDayCorrection,
    Infusion,
    InfusionPlan,
    PostInfusionDraw,
    PreInfusionAssessment,
    Reconfirmation,
    VitalSigns,
)
from dosing.rules import gate
from dosing.services.gate import assessment_errors, reconfirmation_errors
from dosing.services.infusion import start_problem
from enrollment.models import Subject
from enrollment.rules.criteria_common import fmt_instant
from enrollment.services import subject_lock

NO_DEVIATION = "Nothing in the corrected data breaks a rule the original passed: there is no deviation to explain."
Record = DosingDayCorrection.Record


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return "" if value is None else str(value)


def _apply_changes(record: models.Model, values: dict[str, Any], *, more: bool = False) -> dict[str, list[str]]:
    """Set the new values on `record`; the changed fields as {name: [old, new]}, or a 400 when nothing changes
    (unless `more` says other records change with it)."""
    changes = {
        name: [_text(getattr(record, name)), _text(value)]
        for name, value in values.items()
        if _text(getattr(record, name)) != _text(value)
    }
    if not changes and not more:
        raise InvalidInput("Nothing to correct: these are the values on record.")
    for name, value in values.items():
        setattr(record, name, value)
    return changes


def _deviation(broken: str, deviation_reason: str) -> str:
    """The deviation text when the corrected data breaks a rule (400 without its reason); '' when it does not."""
    deviation_reason = (deviation_reason or "").strip()
    if broken and not deviation_reason:
        raise InvalidInput.for_field(
            "deviation_reason",
            f"{broken} The step was already accepted: give the deviation reason to record the correction.",
        )
    if deviation_reason and not broken:
        raise InvalidInput.for_field("deviation_reason", NO_DEVIATION)
    return f"{broken} Deviation: {deviation_reason}" if broken else ""


def _record(
    actor: AbstractBaseUser,
    subject: Subject,
    kind: str,
    record: models.Model,
    changes: dict,
    reason: str,
    deviation: str,
) -> DosingDayCorrection:
    audit = f"Corrected: {reason}" + (f"; protocol deviation: {deviation}" if deviation else "")
    save_audited(record, actor=actor, reason=audit)
    correction = DosingDayCorrection(
        subject=subject,
        record=kind,
        record_id=record.pk,
        changes=changes,
        reason=reason,
        deviation=deviation,
        corrected_by=actor,
        corrected_at=timezone.now(),
    )
    save_audited(correction, actor=actor, reason=audit)
    return correction


def _latest(model: type[models.Model], subject: Subject, day_field: str, what: str):
    """The subject's latest record of `model` on a plan that was not called off, locked."""
    rows = model.objects.select_for_update(of=("self",)).select_related("plan__slot__dose_level", "plan__subject__site")
    row = (
        rows.filter(plan__subject=subject)
        .exclude(plan__status=InfusionPlan.Status.CANCELLED)
        .order_by(f"-{day_field}", "-pk")
        .first()
    )
    if row is None:
        raise Conflict(f"{subject} has no {what} on record to correct.")
    row.plan.subject = subject
    return row


@transaction.atomic
def reconfirmation_correct(
    *,
    actor: AbstractBaseUser,
    subject: Subject,
    reason: str | None,
    drawn_at: datetime,
    platelets: Decimal,
    bleeding: bool,
    bleeding_details: str = "",
    deviation_reason: str = "",
) -> DosingDayCorrection:
    """Correct the latest D−1 reconfirmation; the plan is blocked or cleared again from the corrected result."""
    reason = require_reason(reason)
    subject = subject_lock(actor=actor, subject=subject)
    record: Reconfirmation = _latest(Reconfirmation, subject, "d_minus_1", "D−1 reconfirmation")
    plan = InfusionPlan.objects.select_for_update().get(pk=record.plan_id)
    platelets = Decimal(platelets).quantize(Decimal("0.1"))
    raise_if_any(
        reconfirmation_errors(
            drawn_at=drawn_at,
            platelets=platelets,
            bleeding=bleeding,
            bleeding_details=bleeding_details,
            d_minus_1=record.d_minus_1,
            tz=subject.site.zone,
        )
    )
    outcome = gate.reconfirmation_outcome(platelets=platelets, bleeding=bleeding, limits=selectors.gate_limits())
    values = {
        "drawn_at": drawn_at,
        "platelets": platelets,
        "bleeding": bleeding,
        "bleeding_details": bleeding_details.strip(),
    }
    changes = _apply_changes(record, values)
    record.cleared, record.outcome_reason = outcome.ok, outcome.reason  # derived from the corrected values
    broken = (
        ""
        if outcome.ok or plan.status != InfusionPlan.Status.INFUSED
        else f"The corrected D−1 result would not have cleared the infusion ({outcome.reason.rstrip('.')})."
    )
    deviation = _deviation(broken, deviation_reason)
    correction = _record(actor, subject, Record.RECONFIRMATION, record, changes, reason, deviation)
    _reblock(actor, plan, record, outcome, reason)
    return correction


def _reblock(actor, plan: InfusionPlan, record: Reconfirmation, outcome: gate.Outcome, reason: str) -> None:
    """The plan's block follows its current D−1 result: blocked when it fails, scheduled again when it clears."""
    if record.d_minus_1 != plan.d_minus_1:
        return
    block = f"D−1 {plan.d_minus_1}: "
    if plan.status == InfusionPlan.Status.SCHEDULED and not outcome.ok:
        plan.status, plan.blocked_reason = InfusionPlan.Status.BLOCKED, block + outcome.reason
        save_audited(plan, actor=actor, reason=f"Infusion blocked: the D−1 result was corrected ({reason})")
    elif plan.status == InfusionPlan.Status.BLOCKED and plan.blocked_reason.startswith(block) and outcome.ok:
        plan.status, plan.blocked_reason = InfusionPlan.Status.SCHEDULED, ""
        save_audited(plan, actor=actor, reason=f"Infusion cleared again: the D−1 result was corrected ({reason})")


@transaction.atomic
def assessment_correct(
    *,
    actor: AbstractBaseUser,
    subject: Subject,
    reason: str | None,
    baseline_platelets: Decimal,
    baseline_drawn_at: datetime,
    transfusion_since_screening_at: datetime | None,
    thrombopoietic_since_screening_on: date | None,
    surgery_since_screening_on: date | None,
    deviation_reason: str = "",
) -> DosingDayCorrection:
    """Correct the latest D0 pre-infusion assessment; after the infusion, the checklist is evaluated again at its
    actual start and a failure needs a deviation reason."""
    reason = require_reason(reason)
    subject = subject_lock(actor=actor, subject=subject)
    record: PreInfusionAssessment = _latest(PreInfusionAssessment, subject, "d0", "D0 pre-infusion assessment")
    values = {
        "baseline_platelets": baseline_platelets,
        "baseline_drawn_at": baseline_drawn_at,
        "transfusion_since_screening_at": transfusion_since_screening_at,
        "thrombopoietic_since_screening_on": thrombopoietic_since_screening_on,
        "surgery_since_screening_on": surgery_since_screening_on,
    }
    raise_if_any(assessment_errors(values, d0=record.d0, site=subject.site, now=timezone.now()))
    changes = _apply_changes(record, values)
    infusion = Infusion.objects.filter(subject=subject).first()
    broken = ""
    if infusion is not None and record.plan.status == InfusionPlan.Status.INFUSED:
        checklist = selectors.pre_infusion_checklist(record.plan, start=infusion.started_at, assessment=record)
        failing = gate.blocking(checklist)
        broken = " ".join(f"{item.code}: {item.reason}" for item in failing)
    deviation = _deviation(broken, deviation_reason)
    return _record(actor, subject, Record.ASSESSMENT, record, changes, reason, deviation)


def _locked_infusion(subject: Subject) -> Infusion:
    infusion = (
        Infusion.objects.select_for_update(of=("self",))
        .select_related("slot__plan", "dose_level__protocol")
        .filter(subject=subject)
        .first()
    )
    if infusion is None:
        raise Conflict(f"{subject} has no infusion on record to correct.")
    infusion.subject = subject
    return infusion


@transaction.atomic
def infusion_times_correct(
    *,
    actor: AbstractBaseUser,
    subject: Subject,
    reason: str | None,
    started_at: datetime,
    ended_at: datetime,
    vitals_before_measured_at: datetime | None = None,
    vitals_after_measured_at: datetime | None = None,
    deviation_reason: str = "",
) -> DosingDayCorrection:
    """Correct the infusion's start and end (and, when they moved with it, its vital signs' times): the gap, the
    sentinel, the plan and the checklist are checked again at the corrected start (a break needs a deviation
    reason), the vital signs must still fit the infusion, the draws' deviations are recomputed from the end."""
    reason = require_reason(reason)
    subject = subject_lock(actor=actor, subject=subject)
    infusion = _locked_infusion(subject)
    DoseLevel.objects.select_for_update().get(pk=infusion.dose_level_id)  # gap and sentinel: serialised per level
    plan, tz, now = infusion.slot.plan, subject.site.zone, timezone.now()
    vitals = {row.phase: row for row in VitalSigns.objects.select_for_update().filter(infusion=infusion)}
    moved = {"before": vitals_before_measured_at, "after": vitals_after_measured_at}
    raise_if_any(
        {
            "started_at": "The start cannot be in the future." if started_at > now else None,
            "ended_at": ("The end cannot be before the start." if ended_at < started_at else None)
            or ("The end cannot be in the future." if ended_at > now else None),
            **{
                f"vitals_{phase}_measured_at": gate.vital_signs_problems(
                    {"measured_at": moved[phase] or row.measured_at},
                    phase=phase,
                    started_at=started_at,
                    ended_at=ended_at,
                    tz=tz,
                ).get("measured_at")
                for phase, row in vitals.items()
            },
        }
    )
    plan.subject = subject
    broken = [
        start_problem(plan, started_at, selectors.gate_limits()),
        *(
            f"{item.code}: {item.reason}"
            for item in gate.blocking(selectors.pre_infusion_checklist(plan, start=started_at))
        ),
    ]
    early = started_at < plan.planned_at and not infusion.timing_deviation_reason
    if early:
        broken.append(f"The corrected start is before the planned time ({fmt_instant(plan.planned_at, tz)}).")
    deviation = _deviation(" ".join(problem for problem in broken if problem), deviation_reason)
    values = {"started_at": started_at, "ended_at": ended_at}
    if early:
        values["timing_deviation_reason"] = deviation_reason.strip()
    moving = {phase: row for phase, row in vitals.items() if moved[phase] not in (None, row.measured_at)}
    changes = _apply_changes(infusion, values, more=bool(moving))
    for phase, row in moving.items():
        changes[f"vitals_{phase}_measured_at"] = [_text(row.measured_at), _text(moved[phase])]
        row.measured_at = moved[phase]
        save_audited(row, actor=actor, reason=f"Corrected with the infusion's times: {reason}")
    correction = _record(actor, subject, Record.INFUSION, infusion, changes, reason, deviation)
    _redraw(actor, infusion, reason)
    return correction


def _redraw(actor: AbstractBaseUser, infusion: Infusion, reason: str) -> None:
    """Each draw's deviation from its time after the (corrected) end, recomputed."""
    limits, tz = selectors.gate_limits(), infusion.subject.site.zone
    for draw in PostInfusionDraw.objects.select_for_update().filter(infusion=infusion):
        off = gate.draw_deviation(
            ended_at=infusion.ended_at, minutes=draw.minutes_after_end, drawn_at=draw.drawn_at, limits=limits, tz=tz
        )
        if (draw.deviation, draw.deviation_reason) != (bool(off), off):
            draw.deviation, draw.deviation_reason = bool(off), off
            save_audited(draw, actor=actor, reason=f"Deviation recomputed: the infusion end was corrected ({reason})")


@transaction.atomic
def vital_signs_correct(
    *, actor: AbstractBaseUser, subject: Subject, phase: str, reason: str | None, **values
) -> DosingDayCorrection:
    """Correct the vital signs taken before or after the infusion; they must still fit the infusion day."""
    reason = require_reason(reason)
    subject = subject_lock(actor=actor, subject=subject)
    infusion = _locked_infusion(subject)
    record = VitalSigns.objects.select_for_update().filter(infusion=infusion, phase=phase).first()
    if record is None:
        raise Conflict(f"{subject} has no vital signs {phase} the infusion on record to correct.")
    problems = gate.vital_signs_problems(
        values, phase=phase, started_at=infusion.started_at, ended_at=infusion.ended_at, tz=subject.site.zone
    )
    raise_if_any(problems)
    changes = _apply_changes(record, values)
    return _record(actor, subject, Record.VITAL_SIGNS, record, changes, reason, "")
