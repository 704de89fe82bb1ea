"""The single infusion: recorded once the D0 checklist passes; it starts D0, the DLT window and the visit schedule."""

from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import save_audited
from ctit_trial.errors import Conflict, raise_if_any
from dosing import selectors
from dosing.models import DoseSlot, Infusion, InfusionPlan, PostInfusionDraw, VitalSigns
from dosing.rules import gate
from dosing.services.interlock import dosing_interlock
from enrollment.models import Subject
from enrollment.rules.criteria_common import fmt_instant
from enrollment.services import subject_lock, subject_status_change

EARLY = Infusion.EarlyStop


def infusion_errors(
    data: dict[str, Any], *, now: datetime, check: gate.DoseCheck, tolerance: Decimal, tz: tzinfo
) -> dict[str, str | None]:
    """What is wrong with the infusion data, field by field."""
    started, ended, fraction, early = (
        data["started_at"],
        data["ended_at"],
        data["fraction_given_percent"],
        data["early_stop"],
    )
    before, after = data["vitals_before"], data["vitals_after"]
    return {
        "started_at": "The start cannot be in the future." if started > now else None,
        "ended_at": ("The end cannot be before the start." if ended < started else None)
        or ("The end cannot be in the future." if ended > now else None),
        "fraction_given_percent": (
            "A partial dose needs an early stop (toxicity or another reason)." if fraction < 100 and not early else None
        )
        or ("An infusion stopped early cannot have given the full dose." if fraction == 100 and early else None),
        "early_stop_reason": "Say why the infusion was stopped." if early and not data["early_stop_reason"] else None,
        "interruption_reason": (
            "Say why the infusion was interrupted." if data["interrupted"] and not data["interruption_reason"] else None
        ),
        "dose_deviation_reason": (
            f"The dose given ({check.cells_given:,} viable cells) differs from the level's by "
            f"{check.deviation_percent}%, beyond the {tolerance}% tolerance: give a reason."
            if check.beyond_tolerance and fraction == 100 and not data["dose_deviation_reason"]
            else None
        ),
        **{
            f"vitals_{phase}": " ".join(
                gate.vital_signs_problems(values, phase=phase, started_at=started, ended_at=ended, tz=tz).values()
            )
            or None
            for phase, values in (("before", before), ("after", after))
        },
    }


def start_problem(plan: InfusionPlan, started_at: datetime, limits: gate.GateLimits) -> str:
    """The minimum gap and the sentinel rule on the actual start (the caller holds the level's lock)."""
    level, tz = plan.slot.dose_level, plan.subject.site.zone
    others = Infusion.objects.filter(dose_level__protocol=level.protocol).exclude(subject=plan.subject)
    return gate.actual_start_problem(
        started_at=started_at,
        others=dict(others.values_list("subject__study_number", "started_at")),
        level_starts=list(others.filter(dose_level=level).values_list("started_at", flat=True)),
        limits=limits,
        tz=tz,
    )


def _timing_deviation_problem(plan: InfusionPlan, data: dict[str, Any]) -> str | None:
    """A start before the plan (allowed by the rules) is a protocol deviation and needs its reason."""
    early, reason, tz = data["started_at"] < plan.planned_at, data["timing_deviation_reason"], plan.subject.site.zone
    if early and not reason:
        return (
            f"The infusion started before its planned time ({fmt_instant(plan.planned_at, tz)}): give the reason "
            f"(recorded as a protocol deviation)."
        )
    if reason and not early:
        return "The infusion did not start before its planned time: there is no timing deviation to explain."
    return None


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    data = {"timing_deviation_reason": "", **data}
    texts = (
        "early_stop_reason",
        "interruption_reason",
        "dose_deviation_reason",
        "timing_deviation_reason",
        "product_lot",
    )
    return {**data, **{name: (data.get(name) or "").strip() for name in texts}}


def _planned_for_infusion(actor: AbstractBaseUser, subject: Subject) -> InfusionPlan:
    subject = subject_lock(actor=actor, subject=subject)
    if Infusion.objects.filter(subject=subject).exists():
        raise Conflict(f"{subject} already has its infusion: one infusion per subject.")
    if subject.status != Subject.Status.ENROLLED:
        raise Conflict(f"{subject} is {subject.get_status_display().lower()}: only an enrolled subject is infused.")
    dosing_interlock(subject, step="The infusion", now=timezone.now())
    plan = selectors.plan_live_for_update(subject)
    if plan is None:
        raise Conflict(f"{subject} has no planned infusion: schedule it first.")
    if plan.status == InfusionPlan.Status.BLOCKED:
        raise Conflict(f"The infusion of {subject} is blocked: {plan.blocked_reason}")
    plan.subject = subject
    return plan


@transaction.atomic
def infusion_record(*, actor: AbstractBaseUser, subject: Subject, **data) -> Infusion:
    """Record the infusion; refused with the reasons while any pre-infusion check fails."""
    plan, data = _planned_for_infusion(actor, subject), _clean(data)
    level, limits, now = plan.slot.dose_level, selectors.gate_limits(), timezone.now()
    check = gate.dose_check(
        product_viable_cells=data["product_viable_cells"],
        fraction_percent=data["fraction_given_percent"],
        level_cells=level.viable_cells,
        limits=limits,
    )
    errors = infusion_errors(
        data, now=now, check=check, tolerance=limits.dose_tolerance_percent, tz=plan.subject.site.zone
    )
    errors["started_at"] = errors["started_at"] or start_problem(plan, data["started_at"], limits) or None
    deviation = None if errors["started_at"] else _timing_deviation_problem(plan, data)  # a refused start: no more
    raise_if_any({**errors, "timing_deviation_reason": deviation})
    failing = gate.blocking(selectors.pre_infusion_checklist(plan, start=data["started_at"]))
    if failing:
        reasons = [f"{item.code}: {item.reason}" for item in failing]
        raise Conflict(f"The pre-infusion checklist blocks the infusion. {reasons[0]}", errors={"checklist": reasons})
    vitals = {"before": data.pop("vitals_before"), "after": data.pop("vitals_after")}
    infusion = Infusion(
        subject=plan.subject,
        slot=plan.slot,
        dose_level=level,
        viable_cells_given=check.cells_given,
        recorded_by=actor,
        recorded_at=now,
        **data,
    )
    deviation = f"; protocol deviation: {infusion.timing_deviation_reason}" if infusion.timing_deviation_reason else ""
    save_audited(infusion, actor=actor, reason=f"Infusion recorded at {level.label}{deviation}")
    for phase, values in vitals.items():
        save_audited(VitalSigns(infusion=infusion, phase=phase, **values), actor=actor, reason="Vital signs recorded")
    _mark_dosed(actor, plan, infusion)
    return infusion


def _mark_dosed(actor: AbstractBaseUser, plan: InfusionPlan, infusion: Infusion) -> None:
    """Plan, slot and subject move on in the infusion's transaction (the journey then opens the visit schedule)."""
    plan.status = InfusionPlan.Status.INFUSED
    save_audited(plan, actor=actor, reason="Infused")
    slot = DoseSlot.objects.select_for_update().get(pk=plan.slot_id)
    slot.status = DoseSlot.Status.DOSED
    save_audited(slot, actor=actor, reason="Subject dosed")
    subject_status_change(actor=actor, subject=plan.subject, to=Subject.Status.DOSED, reason="Infused (D0)")


@transaction.atomic
def draw_record(
    *, actor: AbstractBaseUser, subject: Subject, minutes_after_end: int, drawn_at: datetime, platelets: Decimal
) -> PostInfusionDraw:
    """Record a post-infusion platelet draw; one off its time is kept and flagged as a deviation."""
    subject = subject_lock(actor=actor, subject=subject)
    infusion = Infusion.objects.filter(subject=subject).first()
    if infusion is None:
        raise Conflict(f"{subject} has no infusion recorded: post-infusion draws follow it.")
    limits, tz, now = selectors.gate_limits(), subject.site.zone, timezone.now()
    allowed = ", ".join(str(minutes) for minutes in limits.draw_minutes)
    raise_if_any(
        {
            "minutes_after_end": None
            if minutes_after_end in limits.draw_minutes
            else f"{minutes_after_end} is not a scheduled draw (minutes after the end: {allowed}).",
            "drawn_at": ("This time is in the future." if drawn_at > now else None)
            or (
                f"The draw must be after the end of the infusion ({fmt_instant(infusion.ended_at, tz)})."
                if drawn_at < infusion.ended_at
                else None
            ),
            "platelets": "A platelet count cannot be negative." if platelets < 0 else None,
        }
    )
    if infusion.draws.filter(minutes_after_end=minutes_after_end).exists():
        raise Conflict(f"The {minutes_after_end}-minute draw of {subject} is already recorded.")
    off = gate.draw_deviation(
        ended_at=infusion.ended_at, minutes=minutes_after_end, drawn_at=drawn_at, limits=limits, tz=tz
    )
    draw = PostInfusionDraw(
        infusion=infusion,
        minutes_after_end=minutes_after_end,
        drawn_at=drawn_at,
        platelets=platelets,
        deviation=bool(off),
        deviation_reason=off,
        recorded_by=actor,
        recorded_at=now,
    )
    save_audited(
        draw, actor=actor, reason="Post-infusion draw recorded" + (f"; protocol deviation: {off}" if off else "")
    )
    return draw
