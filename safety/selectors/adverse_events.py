"""Reads of adverse events: visibility, derived onset day and emergence, SAE and SUSAR clocks."""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from ctit_trial.errors import NotVisible
from ctit_trial.signatures import signature_is_valid
from enrollment.selectors import subjects_visible_to
from safety.models import AdverseEvent, DltAssessment, SaeReport
from safety.rules import sae as sae_rules
from safety.rules.catalogue import TermFlags, UnknownTerm
from safety.rules.sae import ReportStatus, SafetyClockConfig
from safety.selectors.common import catalogue, instant_text, site_today, study_day_of

AE_RELATED = ("subject__site", "subject__infusion", "ctcae_term", "recorded_by")


def adverse_events_visible_to(user: AbstractBaseUser) -> QuerySet[AdverseEvent]:
    """AEs of the subjects at the sites the user may see, with what their derived fields need."""
    return (
        AdverseEvent.objects.filter(subject__in=subjects_visible_to(user))
        .select_related(*AE_RELATED, "dlt_assessment", "sae_report__signer")
        .prefetch_related("dlt_assessment__adjudications__signer")
        .order_by("subject__site__code", "subject__sequence", "onset_date", "pk")
    )


def ae_get_visible(user: AbstractBaseUser, *, pk: int) -> AdverseEvent:
    """One AE, or NotVisible when it does not exist or belongs to another site."""
    ae = adverse_events_visible_to(user).filter(pk=pk).first()
    if ae is None:
        raise NotVisible("Adverse event not found.")
    return ae


def fatal_event_of(subject, *, on_or_before: date) -> AdverseEvent | None:
    """The subject's first grade-5 (fatal) AE with onset on or before a site-local day, if one is recorded."""
    fatal = AdverseEvent.objects.filter(subject=subject, grade=5, onset_date__lte=on_or_before)
    return fatal.order_by("onset_date", "pk").first()


def onset_study_day(ae: AdverseEvent) -> int | None:
    """The study day of the AE's onset (D0 = the site-local infusion day); None before dosing."""
    return study_day_of(ae.subject, ae.onset_date)


def is_treatment_emergent(ae: AdverseEvent) -> bool:
    """Onset on or after D0 of the subject's infusion (D0 counts: the DLT window starts on D0)."""
    day = onset_study_day(ae)
    return day is not None and day >= 0


def term_flags(ae: AdverseEvent) -> TermFlags:
    """The DLT-relevant properties of the AE's CTCAE term (another term: non-hematologic, no flags)."""
    if ae.ctcae_term_id is None:
        return TermFlags()
    try:
        return catalogue().term(ae.ctcae_term.code).flags
    except UnknownTerm:
        return TermFlags()


def is_susar(ae: AdverseEvent) -> bool:
    """Suspected unexpected serious adverse reaction: serious, assessed as related, and unexpected."""
    related = ae.relatedness in (
        AdverseEvent.Relatedness.DEFINITELY,
        AdverseEvent.Relatedness.PROBABLY,
        AdverseEvent.Relatedness.POSSIBLY,
    )
    return ae.serious and related and ae.expectedness == AdverseEvent.Expectedness.UNEXPECTED


def dlt_assessment_of(ae: AdverseEvent) -> DltAssessment | None:
    """The AE's DLT assessment (uses a select_related row when present)."""
    try:
        return ae.dlt_assessment
    except ObjectDoesNotExist:
        return None


def sae_report_of(ae: AdverseEvent) -> SaeReport | None:
    """The AE's signed SAE report to the sponsor, if recorded."""
    try:
        return ae.sae_report
    except ObjectDoesNotExist:
        return None


@dataclass(frozen=True)
class SaeClock:
    """The investigator's 24-hour SAE reporting clock (PROTOCOL.md §6)."""

    awareness_at: datetime
    deadline: datetime
    reported_at: datetime | None
    status: ReportStatus


def sae_clock(ae: AdverseEvent, *, clocks: SafetyClockConfig, now: datetime) -> SaeClock | None:
    """The SAE clock of a serious AE (None for a non-serious one)."""
    if not ae.serious or ae.awareness_at is None:
        return None
    report = sae_report_of(ae)
    reported_at = report.reported_at if report else None
    status = sae_rules.sae_report_status(aware_at=ae.awareness_at, reported_at=reported_at, now=now, config=clocks)
    deadline = sae_rules.sae_report_deadline(ae.awareness_at, config=clocks)
    return SaeClock(ae.awareness_at, deadline, reported_at, status)


def sae_report_content(ae: AdverseEvent, *, reported_at: datetime) -> dict:
    """What the investigator signs when reporting an SAE: the event as reported, and when."""
    return {
        "adverse_event": ae.pk,
        "subject": ae.subject_id,
        "term": [ae.ctcae_term_id, ae.other_term, ae.other_meddra_code, ae.verbatim_term],
        "grade": ae.grade,
        "onset_date": ae.onset_date,
        "seriousness": ae.seriousness_criteria,
        "relatedness": ae.relatedness,
        "expectedness": ae.expectedness,
        "outcome": ae.outcome,
        "awareness_at": instant_text(ae.awareness_at),
        "reported_at": instant_text(reported_at),
    }


def sae_report_valid(ae: AdverseEvent) -> bool | None:
    """Whether the SAE report's signature still matches the AE (None when not reported)."""
    report = sae_report_of(ae)
    if report is None:
        return None
    return signature_is_valid(report, record=ae, content=sae_report_content(ae, reported_at=report.reported_at))


@dataclass(frozen=True)
class SusarClock:
    """The sponsor's SUSAR clock in calendar days from its first knowledge (day 0)."""

    sponsor_aware_on: date
    initial_report_due: date
    completion_due: date | None
    reported_on: date | None
    status: ReportStatus


def susar_clock(ae: AdverseEvent, *, clocks: SafetyClockConfig, now: datetime) -> SusarClock | None:
    """The SUSAR clock of a SUSAR known to the sponsor (7 days if fatal/life-threatening, else 15)."""
    if not ae.susar or ae.sponsor_aware_on is None:
        return None
    deadlines = sae_rules.susar_deadlines(
        sponsor_aware_on=ae.sponsor_aware_on,
        fatal_or_life_threatening=ae.sae_death or ae.sae_life_threatening,
        config=clocks,
    )
    today = site_today(ae.subject.site, now=now)
    status = sae_rules.susar_report_status(deadlines.initial_report_due, reported_on=ae.susar_reported_on, today=today)
    return SusarClock(
        ae.sponsor_aware_on, deadlines.initial_report_due, deadlines.completion_due, ae.susar_reported_on, status
    )
