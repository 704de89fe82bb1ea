"""Reads of a subject's casebook: the whole record from consent to close-out, in a fixed number of queries."""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch

from ctit_trial.errors import NotVisible
from ctit_trial.signatures import signature_is_valid
from dosing import selectors as dosing_selectors
from dosing.models import DoseSlot, Infusion, InfusionPlan
from dosing.rules.gate import ChecklistItem
from dosing.selectors.dosing_day import LIVE, expected_draws
from enrollment.documents import screening_document
from enrollment.models import Consent, CriterionVerdict, Discontinuation, EligibilityEvaluation, Screening, Subject
from enrollment.selectors import evaluation_current, signature_content, subjects_visible_to
from safety import selectors as safety_selectors
from safety.models import AdverseEvent, LabResult, Notification, Visit
from safety.selectors import AdjudicationState

DLT_STATE_WORDS = {
    AdjudicationState.NOT_CANDIDATE: "Not a DLT candidate",
    AdjudicationState.PENDING: "DLT candidate, awaiting adjudication",
    AdjudicationState.CONFIRMED: "Confirmed DLT",
    AdjudicationState.REJECTED: "Rejected: not a DLT",
    AdjudicationState.INVALIDATED: "Adjudication invalidated by a later change: adjudicate again",
}
AWAITING_ADJUDICATION = (AdjudicationState.PENDING, AdjudicationState.INVALIDATED)

CASEBOOK_PREFETCH = (
    Prefetch("consents", Consent.objects.select_related("obtained_by").order_by("signed_at", "pk")),
    Prefetch(  # to an attribute: the subject's own `screenings` stays a plain manager for the reads that query it
        "screenings",
        Screening.objects.select_related("serology", "consent")
        .prefetch_related("labs", "signatures", "evaluations__verdicts__criterion")
        .order_by("attempt"),
        to_attr="casebook_screenings",
    ),
    "screen_failures__criteria",
    Prefetch("dose_slots", DoseSlot.objects.select_related("dose_level").order_by("claimed_at", "pk")),
    Prefetch(
        "infusion_plans",
        InfusionPlan.objects.prefetch_related("reconfirmations", "assessments").order_by("planned_at", "pk"),
    ),
    "infusion__vital_signs",
    "infusion__draws",
    Prefetch("visits", Visit.objects.select_related("definition").order_by("target_date", "pk")),
    Prefetch(
        "adverse_events",
        AdverseEvent.objects.select_related("ctcae_term", "dlt_assessment", "sae_report")
        .prefetch_related("dlt_assessment__adjudications")
        .order_by("onset_date", "pk"),
    ),
    Prefetch("lab_results", LabResult.objects.select_related("ctcae_term").order_by("observed_on", "pk")),
    Prefetch("notifications", Notification.objects.select_related("recipient").order_by("due_at", "pk")),
)


def casebook_subject(user: AbstractBaseUser, *, pk: int) -> Subject:
    """The subject with every row of its casebook prefetched, or NotVisible (another site's, or no such subject)."""
    subjects = subjects_visible_to(user).select_related("site", "discontinuation", "infusion__dose_level")
    subject = subjects.filter(pk=pk).prefetch_related(*CASEBOOK_PREFETCH).first()
    if subject is None:
        raise NotVisible("Subject not found.")
    return subject


@dataclass(frozen=True)
class SignatureEntry:
    """One electronic signature in the subject's record, and whether it still matches what was signed."""

    what: str
    record: object  # a SignatureFields row
    state: str  # "valid", "invalidated" (the signed data changed) or "superseded"


@dataclass(frozen=True)
class ScreeningEntry:
    record: Screening
    evaluation: EligibilityEvaluation | None
    verdicts: list[CriterionVerdict]
    signatures: list[SignatureEntry]


@dataclass(frozen=True)
class PlanEntry:
    """A planned infusion with its D−1 reconfirmations, D0 assessments and (for the plan that counts) the checklist."""

    record: InfusionPlan
    reconfirmations: list
    assessments: list
    checklist: list[ChecklistItem]


@dataclass(frozen=True)
class VisitEntry:
    record: Visit
    window: str
    deviation: str  # in words: the reason, or "none"


@dataclass(frozen=True)
class AdverseEventEntry:
    record: AdverseEvent
    term: str
    onset_day: int | None
    dlt_state: AdjudicationState
    dlt_words: str
    adjudications: list[SignatureEntry]
    seriousness: list[str]  # the seriousness criteria met, in words
    sae_clock: safety_selectors.SaeClock | None

    @property
    def awaiting_adjudication(self) -> bool:
        return self.dlt_state in AWAITING_ADJUDICATION

    @property
    def sae_report_due(self) -> bool:
        return self.sae_clock is not None and self.sae_clock.reported_at is None


@dataclass(frozen=True)
class CloseOut:
    """When the subject's follow-up was completed, by whom, and why (from the subject's history)."""

    at: datetime
    by: str
    reason: str


@dataclass(frozen=True)
class Casebook:
    """A subject's record from consent to close-out, each part in the order it happened."""

    subject: Subject
    d0: date | None
    consents: list
    screenings: list[ScreeningEntry]
    screen_failures: list
    slots: list
    plans: list[PlanEntry]
    infusion: Infusion | None
    vital_signs: list
    draws: list[dict]
    visits: list[VisitEntry]
    adverse_events: list[AdverseEventEntry]
    lab_results: list
    platelets: dict
    notifications: list
    signatures: list[SignatureEntry]
    discontinuation: Discontinuation | None
    close_out: CloseOut | None


def _screening_entry(screening: Screening) -> ScreeningEntry:
    evaluation = evaluation_current(screening)
    verdicts = evaluation.verdicts.all() if evaluation else []
    ordered = sorted(verdicts, key=lambda v: (v.criterion.kind != "inclusion", v.criterion.number))
    document = screening_document(screening)
    signatures = []
    for signature in sorted(screening.signatures.all(), key=lambda row: (row.signed_at, row.pk)):
        content = signature_content(document, evaluation_id=signature.evaluation_id)
        state = "valid" if signature_is_valid(signature, record=screening, content=content) else "invalidated"
        signatures.append(SignatureEntry(f"Eligibility, screening #{screening.attempt}", signature, state))
    return ScreeningEntry(screening, evaluation, ordered, signatures)


def _plan_entries(subject: Subject, infusion: Infusion | None) -> list[PlanEntry]:
    """Every plan; the checklist of the one infused (at its actual start) or still live (at its planned time)."""
    entries = []
    for plan in subject.infusion_plans.all():
        counts = infusion is not None and infusion.slot_id == plan.slot_id
        live = infusion is None and plan.status in LIVE
        start = infusion.started_at if counts else None
        checklist = dosing_selectors.pre_infusion_checklist(plan, start=start) if counts or live else []
        reconfirmations = sorted(plan.reconfirmations.all(), key=lambda row: row.d_minus_1)
        assessments = sorted(plan.assessments.all(), key=lambda row: row.d0)
        entries.append(PlanEntry(plan, reconfirmations, assessments, checklist))
    return entries


def _visit_entry(visit: Visit) -> VisitEntry:
    definition = visit.definition
    window = (
        f"{visit.window_earliest}…{visit.window_latest} (target {visit.target_date}; "
        f"D{definition.target_day} −{definition.window_before}/+{definition.window_after})"
    )
    return VisitEntry(visit, window, visit.deviation_reason if visit.deviation else "none")


def _adjudication_entries(ae: AdverseEvent, term: str) -> list[SignatureEntry]:
    assessment = safety_selectors.dlt_assessment_of(ae)
    chain = safety_selectors.adjudication_chain(assessment) if assessment else []
    entries = []
    for adjudication in chain:
        if adjudication is not chain[-1]:
            state = "superseded"
        else:
            state = "valid" if safety_selectors.adjudication_valid(ae, assessment, adjudication) else "invalidated"
        entries.append(SignatureEntry(f"DLT adjudication of {term}", adjudication, state))
    return entries


def _ae_entry(ae: AdverseEvent, *, clocks, now: datetime) -> AdverseEventEntry:
    term = ae.term_name
    state = safety_selectors.adjudication_state(ae)
    return AdverseEventEntry(
        record=ae,
        term=term,
        onset_day=safety_selectors.onset_study_day(ae),
        dlt_state=state,
        dlt_words=DLT_STATE_WORDS[state],
        adjudications=_adjudication_entries(ae, term),
        seriousness=[str(AdverseEvent._meta.get_field(name).verbose_name) for name in ae.seriousness_criteria],
        sae_clock=safety_selectors.sae_clock(ae, clocks=clocks, now=now),
    )


def _signatures(screenings: list[ScreeningEntry], adverse_events: list[AdverseEventEntry]) -> list[SignatureEntry]:
    rows = [entry for screening in screenings for entry in screening.signatures]
    for event in adverse_events:
        rows += event.adjudications
        report = safety_selectors.sae_report_of(event.record)
        if report is not None:
            state = "valid" if safety_selectors.sae_report_valid(event.record) else "invalidated"
            rows.append(SignatureEntry(f"SAE report of {event.term} to the sponsor", report, state))
    return sorted(rows, key=lambda row: (row.record.signed_at, row.what))


def _close_out(subject: Subject) -> CloseOut | None:
    if subject.status != Subject.Status.COMPLETED:
        return None
    row = subject.history.filter(status=Subject.Status.COMPLETED).select_related("history_user")
    first = row.order_by("history_date", "history_id").first()
    if first is None:
        return None
    by = first.history_user.get_username() if first.history_user else "—"
    return CloseOut(first.history_date, by, first.history_change_reason or "")


def casebook(subject: Subject, *, now: datetime) -> Casebook:
    """The casebook of a subject read by `casebook_subject`."""
    config = safety_selectors.safety_config()
    infusion = safety_selectors.infusion_of(subject)
    screenings = [_screening_entry(screening) for screening in subject.casebook_screenings]
    adverse_events = [_ae_entry(ae, clocks=config.clocks, now=now) for ae in subject.adverse_events.all()]
    body = safety_selectors.body_size_of(subject)
    return Casebook(
        subject=subject,
        d0=safety_selectors.subject_d0(subject),
        consents=list(subject.consents.all()),
        screenings=screenings,
        screen_failures=list(subject.screen_failures.all()),
        slots=list(subject.dose_slots.all()),
        plans=_plan_entries(subject, infusion),
        infusion=infusion,
        vital_signs=sorted(infusion.vital_signs.all(), key=lambda row: row.measured_at) if infusion else [],
        draws=expected_draws(infusion, now=now) if infusion else [],
        visits=[_visit_entry(visit) for visit in subject.visits.all()],
        adverse_events=adverse_events,
        lab_results=list(subject.lab_results.all()),
        platelets=safety_selectors.subject_platelets(subject, body=body, config=config.endpoints),
        notifications=list(subject.notifications.all()),
        signatures=_signatures(screenings, adverse_events),
        discontinuation=getattr(subject, "discontinuation", None),
        close_out=_close_out(subject),
    )
