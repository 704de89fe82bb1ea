"""DLT reads: the candidate flag of an AE, the validity of its adjudication, and the facts the escalation uses.

An adjudication is valid while its signature's MAC matches the AE's current DLT facts; it is computed on every
read, so a later change to a DLT-relevant fact invalidates it without a stored flag. Adjudications form a chain:
each re-adjudication supersedes the current one, and only the current one counts.
"""

from collections.abc import Iterable
from enum import StrEnum

from django.db.models import Q

from ctit_trial.signatures import signature_is_valid
from dosing.ports import SubjectDltFacts
from safety.models import AdverseEvent, DltAdjudication, DltAssessment
from safety.rules.dlt import AdverseEventFacts, DltFlag, flag_dlt_candidate, is_related, onset_in_window
from safety.selectors.adverse_events import dlt_assessment_of, onset_study_day, term_flags
from safety.selectors.common import dlt_rules, number_text, safety_config

PENDING_NOTE = "relatedness not yet assessed: counted as related until the investigator assesses it"


def counts_as_related(ae: AdverseEvent) -> bool:
    """Definitely, probably or possibly related; an unassessed (lab-graded) AE counts as related until assessed."""
    return ae.relatedness == AdverseEvent.Relatedness.PENDING or is_related(ae.relatedness, rules=dlt_rules())


def dlt_flag(ae: AdverseEvent, *, window_days: int) -> DltFlag:
    """Whether the AE is a DLT candidate under the seeded rules, with the rule and the reason."""
    day = onset_study_day(ae)
    if day is None:
        return DltFlag(False, None, "no infusion recorded: the DLT window has not started")
    facts = AdverseEventFacts(
        grade=ae.grade,
        related=counts_as_related(ae),
        onset_study_day=day,
        flags=term_flags(ae),
        resolved_within_hours=ae.fever_resolved_within_hours,
        resolved_within_days=ae.lab_resolved_within_days,
        resolved_without_sequelae=ae.resolved_without_sequelae,
        neutropenia_duration_days=ae.neutropenia_duration_days,
    )
    flag = flag_dlt_candidate(facts, rules=dlt_rules(), window_days=window_days)
    if ae.relatedness == AdverseEvent.Relatedness.PENDING:
        return DltFlag(flag.is_candidate, flag.rule, f"{flag.reason}; {PENDING_NOTE}")
    return flag


def dlt_content(ae: AdverseEvent, assessment: DltAssessment, adjudication: DltAdjudication) -> dict:
    """What an adjudicator signs: the AE's DLT facts, the flag, the decision and reason, what it supersedes and why."""
    return {
        "adverse_event": ae.pk,
        "term": [ae.ctcae_term_id, ae.other_term, ae.other_meddra_code],
        "grade": ae.grade,
        "relatedness": ae.relatedness,
        "onset_date": ae.onset_date,
        "onset_study_day": onset_study_day(ae),
        "fever_resolved_within_hours": number_text(ae.fever_resolved_within_hours),
        "lab_resolved_within_days": ae.lab_resolved_within_days,
        "resolved_without_sequelae": ae.resolved_without_sequelae,
        "neutropenia_duration_days": ae.neutropenia_duration_days,
        "flag": [assessment.is_candidate, assessment.rule],
        "decision": [adjudication.decision, adjudication.decision_reason],
        "supersedes": [adjudication.supersedes_id, adjudication.reason_for_change],
    }


def adjudication_chain(assessment: DltAssessment) -> list[DltAdjudication]:
    """The AE's adjudications, first to current (each supersedes the one before; uses prefetched rows)."""
    by_predecessor = {row.supersedes_id: row for row in assessment.adjudications.all()}
    chain, row = [], by_predecessor.get(None)
    while row is not None:
        chain.append(row)
        row = by_predecessor.get(row.pk)
    return chain


def current_adjudication(assessment: DltAssessment) -> DltAdjudication | None:
    """The adjudication no later one supersedes (None before the first)."""
    chain = adjudication_chain(assessment)
    return chain[-1] if chain else None


def adjudication_valid(ae: AdverseEvent, assessment: DltAssessment, adjudication: DltAdjudication) -> bool:
    """Whether the adjudication's signature still matches the AE's current DLT facts and its own content."""
    return signature_is_valid(adjudication, record=ae, content=dlt_content(ae, assessment, adjudication))


class AdjudicationState(StrEnum):
    """Where an AE stands in DLT adjudication."""

    NOT_CANDIDATE = "not_candidate"
    PENDING = "pending"  # a candidate never adjudicated
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    INVALIDATED = "invalidated"  # adjudicated, then a DLT-relevant fact changed: adjudicate again


def adjudication_state(ae: AdverseEvent) -> AdjudicationState:
    """The AE's adjudication state from its current adjudication, with validity computed from the current facts."""
    assessment = dlt_assessment_of(ae)
    if assessment is None or not assessment.is_candidate:
        return AdjudicationState.NOT_CANDIDATE
    current = current_adjudication(assessment)
    if current is None:
        return AdjudicationState.PENDING
    if not adjudication_valid(ae, assessment, current):
        return AdjudicationState.INVALIDATED
    if current.decision == DltAdjudication.Decision.CONFIRM:
        return AdjudicationState.CONFIRMED
    return AdjudicationState.REJECTED


def related_grade2_in_window(ae: AdverseEvent, *, window_days: int) -> bool:
    """An AE assessed as related, of grade ≥ 2, with onset in D0…D<window_days> (the titration trigger's AE)."""
    # Unassessed relatedness does not count here: it may hold a decision (as a DLT candidate), never change one.
    day = onset_study_day(ae)
    related = is_related(ae.relatedness, rules=dlt_rules())
    return day is not None and onset_in_window(day, window_days=window_days) and ae.grade >= 2 and related


def dlt_relevant() -> Q:
    """AEs that can make a DLT fact true: a DLT candidate (confirmed or awaiting adjudication), grade ≥ 2 (the
    related grade-2 AE), or one that stopped the infusion. Any other AE leaves every fact false."""
    return Q(dlt_assessment__is_candidate=True) | Q(grade__gte=2) | Q(action_taken=AdverseEvent.ActionTaken.STOPPED)


def dlt_facts(subject_ids: Iterable[int]) -> dict[int, SubjectDltFacts]:
    """Each subject's DLT facts from current data, in three queries; subjects without a DLT-relevant AE are absent
    (their facts are all false).

    The escalation engine reads it through `dosing.ports.dlt_facts` (provided in `SafetyConfig.ready`).
    """
    events = list(
        AdverseEvent.objects.filter(dlt_relevant(), subject_id__in=list(subject_ids))
        .select_related("subject__site", "subject__infusion", "dlt_assessment")
        .prefetch_related("dlt_assessment__adjudications")
        .order_by("subject_id", "pk")
    )
    if not events:
        return {}
    window_days = safety_config().dlt_window_days
    states: dict[int, list[tuple[AdjudicationState, bool, bool]]] = {}
    for ae in events:
        stopped = ae.action_taken == AdverseEvent.ActionTaken.STOPPED
        states.setdefault(ae.subject_id, []).append(
            (adjudication_state(ae), related_grade2_in_window(ae, window_days=window_days), stopped)
        )
    unresolved = (AdjudicationState.PENDING, AdjudicationState.INVALIDATED)
    return {
        subject_id: SubjectDltFacts(
            dlt_confirmed=any(state == AdjudicationState.CONFIRMED for state, _, _ in rows),
            related_grade2=any(grade2 for _, grade2, _ in rows),
            unadjudicated_candidates=sum(state in unresolved for state, _, _ in rows),
            stopped_infusion=any(stopped for _, _, stopped in rows),
        )
        for subject_id, rows in states.items()
    }
