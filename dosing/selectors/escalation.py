"""Reads of the dosing app: the live dose path, the engine's recommendation, slots, scheduling limits and the
dosing interlock (PROTOCOL.md §4.1: a re-adjudication that changes the decision pauses dosing at the higher level)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ctit_trial.site_time import format_local
from dosing.models import DoseLevel, DoseSlot, Infusion, SrcDecision
from dosing.ports import dlt_facts
from dosing.rules.boin import next_boin_decision
from dosing.rules.config import boin_options, configured_design, escalation_options
from dosing.rules.decision import DOSING_ACTIONS, Action, Decision
from dosing.rules.live import DosedSubject, dose_path, what_if_path, window_complete, window_last_day
from dosing.rules.three_plus_three import next_decision
from enrollment.models import Discontinuation, Protocol, Subject
from enrollment.selectors import subjects_visible_to


def engine_configuration(protocol: Protocol) -> dict[str, Any]:
    """The protocol's configuration (validated) as the escalation engine reads it, dose levels included."""
    levels = DoseLevel.objects.filter(protocol=protocol).order_by("level")
    return {
        **protocol.config.sections,
        "dose_levels": [{"level": level.level, "viable_cells": level.viable_cells} for level in levels],
    }


def design_options(config: dict[str, Any], *, design: str | None = None, **overrides) -> tuple[str, Any]:
    """The design (configured unless given) and its typed options (raises ConfigError)."""
    design = design or configured_design(config)
    return design, boin_options(config) if design == "boin" else escalation_options(config, **overrides)


def engine_decision(config: dict[str, Any], path: str, *, design: str | None = None, **overrides) -> Decision:
    """The design's decision for a dose path (raises DosePathError / ConfigError)."""
    design, options = design_options(config, design=design, **overrides)
    return (next_boin_decision if design == "boin" else next_decision)(path, options)


@dataclass(frozen=True)
class _Infused:
    """The columns of one infusion the live path reads (a plain row, not a model: thousands are read per status)."""

    subject_id: int
    level: int
    started_at: datetime
    early_stop: str
    zone: ZoneInfo


def dosed_subjects(protocol: Protocol, *, now: datetime) -> list[DosedSubject]:
    """Every dosed subject in dosing order: D0 and window in their site's time zone, adjudicated DLT facts, and
    whether the subject left the trial (a discontinuation) before its window was over."""
    window_days = protocol.configuration["scheduling"]["dlt_window_days"]
    columns = ("subject_id", "dose_level__level", "started_at", "early_stop", "subject__site__time_zone")
    rows = Infusion.objects.filter(dose_level__protocol=protocol).order_by("started_at", "pk").values_list(*columns)
    infusions = [_Infused(*row[:4], zone=ZoneInfo(row[4])) for row in rows]  # ZoneInfo caches each zone
    subject_ids = [infusion.subject_id for infusion in infusions]
    facts = dlt_facts(subject_ids)
    left = dict(Discontinuation.objects.filter(subject_id__in=subject_ids).values_list("subject_id", "left_at"))
    return [
        _dosed_subject(
            infusion, facts.get(infusion.subject_id), left.get(infusion.subject_id), now=now, window_days=window_days
        )
        for infusion in infusions
    ]


def _dosed_subject(
    infusion: _Infused, dlt, left_at: datetime | None, *, now: datetime, window_days: int
) -> DosedSubject:
    """One subject's facts. Not evaluable (X, replaced at the level, PROTOCOL.md §4.1): the infusion stopped for a
    non-toxicity reason, or the subject left on or before the window's last site-local day. A confirmed DLT still
    makes it T (`outcome_letter` reads the DLT first); leaving after the window keeps N or G."""
    zone = infusion.zone
    d0 = infusion.started_at.astimezone(zone).date()  # the site-local day, as Site.local_date computes it
    left_in_window = left_at is not None and left_at.astimezone(zone).date() <= window_last_day(
        d0, window_days=window_days
    )
    return DosedSubject(
        subject_id=infusion.subject_id,
        level=infusion.level,
        d0=d0,
        window_complete=window_complete(d0, today=now.astimezone(zone).date(), window_days=window_days),
        non_evaluable=infusion.early_stop == Infusion.EarlyStop.NON_TOXICITY or left_in_window,
        dlt_confirmed=bool(dlt and dlt.dlt_confirmed),
        related_grade2=bool(dlt and dlt.related_grade2),
        unadjudicated_candidates=dlt.unadjudicated_candidates if dlt else 0,
        toxicity_stop_unexplained=infusion.early_stop == Infusion.EarlyStop.TOXICITY
        and not (dlt and dlt.stopped_infusion),
    )


@dataclass(frozen=True)
class Recommendation:
    """The live dose path and what the engine recommends for it."""

    path: str
    decision: Decision


def recommendation(protocol: Protocol, *, now: datetime, subjects: list[DosedSubject] | None = None) -> Recommendation:
    """The engine's recommendation for the live trial (pass `subjects` when already read)."""
    path = dose_path(dosed_subjects(protocol, now=now) if subjects is None else subjects)
    return Recommendation(path=path, decision=engine_decision(engine_configuration(protocol), path))


def open_level(protocol: Protocol) -> DoseLevel | None:
    """The dose level open for enrollment, if any."""
    return DoseLevel.objects.filter(protocol=protocol, status=DoseLevel.Status.OPEN).first()


OTHER_SITE = "another site's subject"


def open_level_for_update(protocol: Protocol) -> DoseLevel | None:
    """The open dose level, row-locked: the guard of every slot claim at that level."""
    return DoseLevel.objects.select_for_update().filter(protocol=protocol, status=DoseLevel.Status.OPEN).first()


def pending_slot_count(level: DoseLevel) -> int:
    """Slots claimed at a level whose subjects are not yet dosed."""
    return DoseSlot.objects.filter(dose_level=level, status=DoseSlot.Status.CLAIMED).count()


def earliest_dosing_at(level: DoseLevel, *, now: datetime) -> datetime:
    """The earliest instant the next subject at a level may be dosed: 24 h gap and the sentinel rule."""
    scheduling = level.protocol.config.scheduling
    candidates = [now]
    last = Infusion.objects.filter(dose_level__protocol=level.protocol).order_by("-started_at").first()
    if last is not None:
        candidates.append(last.started_at + timedelta(hours=scheduling.min_hours_between_infusions))
    first_at_level = Infusion.objects.filter(dose_level=level).order_by("started_at").first()
    if first_at_level is not None:
        candidates.append(first_at_level.started_at + timedelta(days=scheduling.sentinel_days))
    return max(candidates)


def _gap_and_sentinel_blockers(level: DoseLevel, *, now: datetime) -> list[str]:
    scheduling = level.protocol.config.scheduling
    blockers = []
    infused = list(Infusion.objects.filter(dose_level=level).select_related("subject__site").order_by("started_at")[:2])
    if len(infused) == 1 and now < infused[0].started_at + timedelta(days=scheduling.sentinel_days):
        until = infused[0].started_at + timedelta(days=scheduling.sentinel_days)
        blockers.append(
            f"Sentinel: the first subject at level {level.level} is observed until "
            f"{format_local(until, infused[0].subject.site.zone)}."
        )
    last = (
        Infusion.objects.filter(dose_level__protocol=level.protocol)
        .select_related("subject__site")
        .order_by("-started_at")
        .first()
    )
    gap = timedelta(hours=scheduling.min_hours_between_infusions)
    if last is not None and now < last.started_at + gap:
        blockers.append(
            f"Minimum gap: no infusion before {format_local(last.started_at + gap, last.subject.site.zone)}."
        )
    return blockers


def _decision_blockers(decision: Decision, level: DoseLevel | None, protocol: Protocol) -> list[str]:
    blockers = []
    if decision.action == "hold":
        blockers.append(f"Hold: {decision.reason}.")
    pending = SrcDecision.objects.filter(protocol=protocol, status=SrcDecision.Status.AWAITING_SIGNATURES).first()
    if pending is not None:
        blockers.append(f"The SRC decision of {pending.meeting_date} awaits signatures.")
    if level is None and decision.action in ("enroll", "escalate"):
        blockers.append("No dose level is open: open level 1 at trial start, later levels by a signed SRC decision.")
    elif decision.action in ("declare_mtd", "declare_mad", "stop") or (
        level is not None and decision.action != "hold" and decision.dose_level != level.level
    ):
        blockers.append(
            f"Missing SRC decision: the engine recommends {decision.action}"
            f"{'' if decision.dose_level is None else f' at level {decision.dose_level}'}."
        )
    return blockers


def study_numbers(subject_ids, viewer=None) -> dict[int, str]:
    """Study numbers of those subjects the viewer may see (all of them for the system: viewer None)."""
    subjects = Subject.objects.all() if viewer is None else subjects_visible_to(viewer)
    return dict(subjects.filter(pk__in=list(subject_ids)).values_list("pk", "study_number"))


def _candidate_blockers(subjects: list[DosedSubject], viewer) -> list[str]:
    waiting = [subject for subject in subjects if subject.unadjudicated_candidates]
    stopped = [subject for subject in subjects if subject.toxicity_stop_unexplained]
    numbers = study_numbers([s.subject_id for s in waiting + stopped], viewer)
    blockers = []
    if waiting:
        listed = ", ".join(f"{numbers.get(s.subject_id, OTHER_SITE)} (level {s.level})" for s in waiting)
        blockers.append(f"DLT candidates await adjudication: {listed}.")
    if stopped:
        listed = ", ".join(f"{numbers.get(s.subject_id, OTHER_SITE)} (level {s.level})" for s in stopped)
        blockers.append(f"Infusion stopped for toxicity, the adverse event that stopped it not yet recorded: {listed}.")
    return blockers


def escalation_status(protocol: Protocol, *, now: datetime, viewer=None) -> dict[str, Any]:
    """The live path, the recommendation, what blocks dosing, the earliest next infusion and the what-ifs.

    Subjects are named by study number only where the viewer may see them ("another site's subject" elsewhere).
    """
    subjects = dosed_subjects(protocol, now=now)
    live = recommendation(protocol, now=now, subjects=subjects)
    level = open_level(protocol)
    blockers = _candidate_blockers(subjects, viewer) + _decision_blockers(live.decision, level, protocol)
    if level is not None:
        blockers += _gap_and_sentinel_blockers(level, now=now)
    next_level = live.decision.dose_level if live.decision.action in ("enroll", "escalate") else None
    config = engine_configuration(protocol)
    what_if = {}
    if next_level is not None:
        what_if = {
            f"next_{name}": engine_decision(config, what_if_path(live.path, level=next_level, letter=letter)).to_dict()
            for name, letter in (("dlt", "T"), ("no_dlt", "N"))
        }
    return {
        "path": live.path,
        "recommendation": live.decision.to_dict(),
        "paused_subjects": _paused_subjects(protocol, live.decision, now=now, viewer=viewer),
        "open_level": level.level if level else None,
        "pending_slots": pending_slot_count(level) if level else 0,
        "blockers": blockers,
        "earliest_next_dosing_at": earliest_dosing_at(level, now=now) if level else None,
        "what_if": what_if,
    }


def _paused_subjects(protocol: Protocol, decision: Decision, *, now: datetime, viewer) -> list[dict[str, Any]]:
    """Enrolled subjects holding a slot the engine no longer allows dosing at, with the reason."""
    slots = list(
        DoseSlot.objects.filter(dose_level__protocol=protocol, status=DoseSlot.Status.CLAIMED)
        .select_related("dose_level__protocol")
        .order_by("claimed_at", "pk")
    )
    numbers = study_numbers([slot.subject_id for slot in slots], viewer)
    queues = claimed_queues({slot.dose_level_id for slot in slots})
    paused = []
    for slot in slots:
        reason = dosing_block(slot, now=now, decision=decision, queue=queues[slot.dose_level_id])
        if reason:
            study_number = numbers.get(slot.subject_id, OTHER_SITE)
            paused.append({"study_number": study_number, "dose_level": slot.dose_level.level, "reason": reason})
    return paused


def claimed_queues(level_ids: Iterable[int]) -> dict[int, list[int]]:
    """The claimed slots in line (claim order) at each of these dose levels, by level id, in one query."""
    queues: dict[int, list[int]] = {level_id: [] for level_id in level_ids}
    rows = DoseSlot.objects.filter(dose_level_id__in=list(queues), status=DoseSlot.Status.CLAIMED)
    for level_id, slot_id in rows.order_by("claimed_at", "pk").values_list("dose_level_id", "pk"):
        queues[level_id].append(slot_id)
    return queues


def dosing_block(
    slot: DoseSlot, *, now: datetime, decision: Decision | None = None, queue: list[int] | None = None
) -> str:
    """Why the subject holding the claimed `slot` may not be dosed now ('' when they may); `queue`: the claimed
    slots in line at its level (`claimed_queues`), when already read.

    To act on the answer, hold the slot's dose level row lock while reading it (`dosing.services.interlock`).
    """
    level = slot.dose_level
    if level.status != DoseLevel.Status.OPEN:
        return (
            f"Level {level.level} is {level.get_status_display().lower()}: release the slot or move it to the open "
            f"level, with a reason."
        )
    decision = decision or recommendation(level.protocol, now=now).decision
    if decision.action == Action.HOLD:
        return (
            f"The escalation engine now holds ({decision.reason}): dosing at level {level.level} is paused until "
            f"the subjects dosed there are evaluable."
        )
    if decision.action not in DOSING_ACTIONS:
        return (
            f"The escalation engine now recommends {decision.action.value.replace('_', ' ')}"
            f"{'' if decision.dose_level is None else f' at level {decision.dose_level}'} ({decision.reason}): "
            f"dosing at level {level.level} is paused until a signed SRC decision."
        )
    if decision.dose_level != level.level:
        return (
            f"The escalation engine now recommends dosing level {decision.dose_level} ({decision.reason}): dosing "
            f"at level {level.level} is paused until a signed SRC decision; then move or release the slot."
        )
    if queue is None:
        queue = claimed_queues([level.pk])[level.pk]
    place = queue.index(slot.pk) + 1 if slot.pk in queue else len(queue) + 1
    if place > decision.subjects:
        return (
            f"Level {level.level} has room for {decision.subjects} more subject(s) and this slot is number {place} "
            f"in line: wait for a slot to be released, or release this one."
        )
    return ""
