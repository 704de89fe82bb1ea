"""Reads of the dosing day: the live plan, the D0 checklist from recorded data, and what is still missing."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import QuerySet

from dosing.models import DoseSlot, Infusion, InfusionPlan, PreInfusionAssessment, Reconfirmation
from dosing.rules import gate
from dosing.rules.decision import Decision
from dosing.selectors.escalation import claimed_queues, dosing_block, earliest_dosing_at, recommendation
from enrollment.models import Protocol, Screening, Site, Subject
from enrollment.selectors import protocol_current, screening_current

LIVE = (InfusionPlan.Status.SCHEDULED, InfusionPlan.Status.BLOCKED)


def gate_limits(protocol: Protocol | None = None) -> gate.GateLimits:
    """The dosing gate's configured limits."""
    return gate.GateLimits.from_settings((protocol or protocol_current()).config)


def plan_live(subject: Subject) -> InfusionPlan | None:
    """The subject's scheduled or blocked infusion plan, if any."""
    return InfusionPlan.objects.filter(subject=subject, status__in=LIVE).select_related("slot__dose_level").first()


def plan_live_for_update(subject: Subject) -> InfusionPlan | None:
    """The live plan, row-locked (take the subject's lock first)."""
    plans = InfusionPlan.objects.select_for_update(of=("self",)).select_related("slot__dose_level")
    return plans.filter(subject=subject, status__in=LIVE).first()


def claimed_slot(subject: Subject) -> DoseSlot | None:
    """The subject's claimed (not yet dosed) slot."""
    slots = DoseSlot.objects.select_related("dose_level__protocol")
    return slots.filter(subject=subject, status=DoseSlot.Status.CLAIMED).first()


def spacing_others(plan_subject: Subject) -> dict[str, datetime]:
    """Other subjects' live planned infusions, by study number (for the minimum gap between infusions)."""
    plans = InfusionPlan.objects.filter(status=InfusionPlan.Status.SCHEDULED).exclude(subject=plan_subject)
    return dict(plans.values_list("subject__study_number", "planned_at"))


def reconfirmation_of(plan: InfusionPlan) -> Reconfirmation | None:
    """The reconfirmation recorded on the plan's current D−1 (uses prefetched rows when present)."""
    if "reconfirmations" in getattr(plan, "_prefetched_objects_cache", {}):
        return next((row for row in plan.reconfirmations.all() if row.d_minus_1 == plan.d_minus_1), None)
    return plan.reconfirmations.filter(d_minus_1=plan.d_minus_1).first()


def assessment_of(plan: InfusionPlan) -> PreInfusionAssessment | None:
    """The D0 pre-infusion assessment for the plan's current D0 (uses prefetched rows when present)."""
    d0 = plan.d_minus_1 + timedelta(days=1)
    if "assessments" in getattr(plan, "_prefetched_objects_cache", {}):
        return next((row for row in plan.assessments.all() if row.d0 == d0), None)
    return plan.assessments.filter(d0=d0).first()


def _latest(*values):
    present = [value for value in values if value is not None]
    return max(present) if present else None


_UNREAD = object()


def gate_facts(
    plan: InfusionPlan, *, start: datetime, assessment: PreInfusionAssessment | None = None, screening=_UNREAD
) -> gate.GateFacts:
    """The D0 checklist's facts: the D−1 result, the D0 assessment (or a corrected one) and the screening history
    (pass `screening` when already read)."""
    reconfirmation, assessment = reconfirmation_of(plan), assessment or assessment_of(plan)
    screening = screening_current(plan.subject) if screening is _UNREAD else screening
    return gate.GateFacts(
        start=start,
        planned_d0=plan.d_minus_1 + timedelta(days=1),
        reconfirmation=gate.Outcome(reconfirmation.cleared, reconfirmation.outcome_reason) if reconfirmation else None,
        assessed=assessment is not None,
        baseline_drawn_at=assessment.baseline_drawn_at if assessment else None,
        last_transfusion_at=_latest(
            screening and screening.last_platelet_transfusion_at,
            assessment and assessment.transfusion_since_screening_at,
        ),
        last_thrombopoietic_on=_latest(
            screening and screening.last_thrombopoietic_drug_on,
            assessment and assessment.thrombopoietic_since_screening_on,
        ),
        last_surgery_on=_latest(
            screening and screening.last_major_surgery_on, assessment and assessment.surgery_since_screening_on
        ),
    )


def pre_infusion_checklist(
    plan: InfusionPlan,
    *,
    start: datetime | None = None,
    assessment: PreInfusionAssessment | None = None,
    reads: "DayReads | None" = None,
) -> list[gate.ChecklistItem]:
    """The D0 checklist for an infusion starting at `start` (default: the planned time); `assessment` stands in for
    the recorded one (a correction checked before it is saved); `reads`: rows already read for many subjects."""
    start = start or plan.planned_at
    if reads is None:
        facts, limits = gate_facts(plan, start=start, assessment=assessment), gate_limits()
    else:
        screening = reads.screenings.get(plan.subject_id)
        facts, limits = gate_facts(plan, start=start, assessment=assessment, screening=screening), reads.limits
    return gate.checklist(facts, limits=limits, tz=plan.subject.site.zone)


@dataclass
class DosingDayState:
    """Where a subject stands between enrollment and the post-infusion draws, and what is still missing."""

    subject: Subject
    plan: InfusionPlan | None
    infusion: Infusion | None
    earliest_allowed_at: datetime | None = None
    blocked: str = ""  # why the engine does not allow dosing the subject at their slot's level now ('' if it does)
    reconfirmation: Reconfirmation | None = None
    assessment: PreInfusionAssessment | None = None
    checklist: list[gate.ChecklistItem] = field(default_factory=list)
    draws: list[dict] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def d0(self) -> date | None:
        if self.infusion is not None:
            return self.subject.site.local_date(self.infusion.started_at)
        return self.plan.d_minus_1 + timedelta(days=1) if self.plan else None


@dataclass
class DayReads:
    """The rows the dosing-day state reads, loaded once for many subjects (`day_reads`): a fixed number of queries."""

    now: datetime
    limits: gate.GateLimits
    infusions: dict[int, Infusion]  # by subject id, with the draws and the slot's plan
    plans: dict[int, InfusionPlan]  # the live plan by subject id, with its reconfirmations and assessments
    slots: dict[int, DoseSlot]  # the claimed slot by subject id
    screenings: dict[int, Screening]  # the current screening by subject id
    earliest: dict[int, datetime] = field(default_factory=dict)  # earliest next dosing by dose level id
    queues: dict[int, list[int]] = field(default_factory=dict)  # claimed slot ids in line, by dose level id


def day_reads(subject_ids: Iterable[int], *, now: datetime) -> DayReads:
    """Everything `dosing_day_state` reads for these subjects, in a fixed number of queries (two per open level)."""
    ids = list(subject_ids)
    infusions = Infusion.objects.filter(subject_id__in=ids).select_related("slot__plan").prefetch_related("draws")
    plans = (
        InfusionPlan.objects.filter(subject_id__in=ids, status__in=LIVE)
        .select_related("slot__dose_level", "subject__site")
        .prefetch_related("reconfirmations", "assessments")
    )
    slots = DoseSlot.objects.filter(subject_id__in=ids, status=DoseSlot.Status.CLAIMED)
    screenings = Screening.objects.filter(subject_id__in=ids).select_related("subject__site", "consent", "serology")
    reads = DayReads(
        now=now,
        limits=gate_limits(),
        infusions={row.subject_id: row for row in infusions},
        plans={row.subject_id: row for row in plans},
        slots={row.subject_id: row for row in slots.select_related("dose_level__protocol")},
        screenings={row.subject_id: row for row in screenings.order_by("subject_id", "attempt")},  # the last wins
    )
    levels = {slot.dose_level_id: slot.dose_level for slot in reads.slots.values()}
    reads.earliest = {pk: earliest_dosing_at(level, now=now) for pk, level in levels.items()}
    reads.queues = claimed_queues(levels)
    return reads


def dosing_day_state(
    subject: Subject, *, now: datetime, decision: Decision | None = None, reads: DayReads | None = None
) -> DosingDayState:
    """The subject's dosing-day state at `now` (site-local days); `decision`: the live one, when the caller has it;
    `reads`: the rows read for many subjects at once (`day_reads`)."""
    reads = reads or day_reads([subject.pk], now=now)
    infusion = reads.infusions.get(subject.pk)
    if infusion is not None:
        state = DosingDayState(subject, plan=getattr(infusion.slot, "plan", None), infusion=infusion)
        state.draws = expected_draws(infusion, now=now, limits=reads.limits)
        state.missing = [f"{draw['time_point']} platelet draw" for draw in state.draws if draw["status"] == "due"]
        return state
    plan = reads.plans.get(subject.pk)
    state = DosingDayState(subject, plan=plan, infusion=None)
    slot = reads.slots.get(subject.pk)
    if slot is not None:
        state.earliest_allowed_at = reads.earliest[slot.dose_level_id]
        state.blocked = dosing_block(slot, now=now, decision=decision, queue=reads.queues.get(slot.dose_level_id, []))
    if plan is None:
        state.missing = ["Schedule the infusion."] if subject.status == Subject.Status.ENROLLED else []
        state.missing = [f"Dosing paused: {state.blocked}"] if state.blocked else state.missing
        return state
    state.reconfirmation, state.assessment = reconfirmation_of(plan), assessment_of(plan)
    state.checklist = pre_infusion_checklist(plan, reads=reads)
    state.missing = _plan_missing(state, today=subject.site.local_date(now))
    if state.blocked:
        state.missing.insert(0, f"Dosing paused: {state.blocked}")
    return state


def _plan_missing(state: DosingDayState, *, today: date) -> list[str]:
    plan = state.plan
    if plan.status == InfusionPlan.Status.BLOCKED:
        return [f"Blocked: {plan.blocked_reason}"]
    if today < plan.d_minus_1:
        return []
    missing = [item.reason for item in gate.blocking(state.checklist) if item.code != "D0"]
    return missing + (["Record the infusion."] if today >= state.d0 else [])


def expected_draws(infusion: Infusion, *, now: datetime, limits: gate.GateLimits | None = None) -> list[dict]:
    """Each configured post-infusion draw: due time, and recorded / due / upcoming."""
    recorded = {draw.minutes_after_end: draw for draw in infusion.draws.all()}
    rows = []
    for minutes in (limits or gate_limits()).draw_minutes:
        draw, due_at = recorded.get(minutes), infusion.ended_at + timedelta(minutes=minutes)
        status = "recorded" if draw else ("due" if now >= due_at else "upcoming")
        rows.append(
            {
                "time_point": gate.time_point_name(minutes),
                "minutes": minutes,
                "due_at": due_at,
                "status": status,
                "draw": draw,
            }
        )
    return rows


def plans_for_day(sites: Iterable[Site], *, now: datetime) -> QuerySet[InfusionPlan]:
    """Live plans whose D−1 or D0 is today at their site, and plans infused today."""
    wanted = InfusionPlan.objects.none()
    for site in sites:
        today = site.local_date(now)
        wanted |= InfusionPlan.objects.filter(
            subject__site=site, d_minus_1__in=(today, today - timedelta(days=1))
        ).exclude(status=InfusionPlan.Status.CANCELLED)
    return wanted.select_related("subject__site", "slot__dose_level").order_by("planned_at", "pk")


def dosing_today(sites: Iterable[Site], *, now: datetime) -> list[dict]:
    """For staff: who has D−1 today, who is dosed today, and what is still missing for each."""
    rows, decision = [], recommendation(protocol_current(), now=now).decision  # one engine run for every row
    plans = list(plans_for_day(sites, now=now))
    reads = day_reads([plan.subject_id for plan in plans], now=now)  # one set of reads for every row
    for plan in plans:
        state = dosing_day_state(plan.subject, now=now, decision=decision, reads=reads)
        today = plan.subject.site.local_date(now)
        rows.append(
            {
                "subject": plan.subject,
                "site": plan.subject.site.code,
                "dose_level": plan.slot.dose_level.level,
                "day": "D-1" if plan.d_minus_1 == today else "D0",
                "planned_at": plan.planned_at,
                "plan_status": plan.status,
                "blocked": state.blocked,
                "missing": state.missing,
            }
        )
    return rows
