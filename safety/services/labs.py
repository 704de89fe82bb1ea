"""Lab results graded by CTCAE: one lab-graded AE per term per episode, open while graded, worst grade kept."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import save_audited
from ctit_trial.errors import Conflict, InvalidInput
from enrollment.models import Subject
from safety import selectors
from safety.models import AdverseEvent, CtcaeTerm, LabResult
from safety.rules import units
from safety.rules.catalogue import CtcaeTerm as CatalogueTerm
from safety.rules.catalogue import UnknownTerm
from safety.rules.grading import GradingInputError, LabGrade, grade_lab, references_needed
from safety.services.adverse_events import ae_errors, ae_lock
from safety.services.common import raise_if_any, require_site_member, subject_lock
from safety.services.dlt import dlt_flag_store

Source = AdverseEvent.Source
REFERENCE_FIELDS = {"LLN": "lln", "ULN": "uln", "baseline": "baseline"}


@dataclass(frozen=True)
class LabResultGrade:
    """A graded lab result and what it did to the term's episode (created, worsened, unchanged, closed, none)."""

    grade: int | None
    reason: str
    ctcae_version: str
    action: str
    adverse_event: AdverseEvent | None


def _lab_term(analyte: str) -> CatalogueTerm:
    try:
        term = selectors.catalogue().term(analyte)
    except UnknownTerm as error:
        raise InvalidInput.for_field(
            "analyte", f"Unknown lab analyte '{analyte}': give a CTCAE lab term code."
        ) from error
    if term.lab is None:
        raise InvalidInput.for_field("analyte", f"{term.name} is not graded from a lab value.")
    return term


def _grade(term: CatalogueTerm, value, **references) -> LabGrade:
    try:
        return grade_lab(term.code, value, catalogue=selectors.catalogue(), **references)
    except GradingInputError as error:
        field = next((name for label, name in REFERENCE_FIELDS.items() if label in str(error)), "value")
        raise InvalidInput.for_field(field, str(error)) from error
    except (TypeError, ValueError) as error:
        raise InvalidInput.for_field("value", str(error)) from error


def _catalogue_row(term: CatalogueTerm) -> CtcaeTerm:
    row = CtcaeTerm.objects.filter(ctcae_version=selectors.catalogue().version, code=term.code).first()
    if row is None:
        raise Conflict("The CTCAE catalogue is not loaded: run `python manage.py seed`.")
    return row


def _save_episode(ae: AdverseEvent, *, actor: AbstractBaseUser, reason: str) -> AdverseEvent:
    raise_if_any(ae_errors(ae, now=timezone.now()))
    save_audited(ae, actor=actor, reason=reason)
    dlt_flag_store(actor=actor, ae=ae, reason=f"DLT flag computed: {reason}")
    return ae


def _open_episode(
    subject: Subject, row: CtcaeTerm, graded: LabGrade, observed_on: date, actor, *, source
) -> AdverseEvent:
    ae = AdverseEvent(
        subject=subject,
        source=source,
        verbatim_term=row.term,
        ctcae_term=row,
        ctcae_version=graded.ctcae_version,
        grade=graded.grade,
        onset_date=observed_on,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    what = "lab result" if source == Source.LAB else "temperature"
    return _save_episode(ae, actor=actor, reason=f"Graded from the {what} of {observed_on}: {graded.reason}")


def _close_episode(ae: AdverseEvent, graded: LabGrade, observed_on: date, actor) -> AdverseEvent:
    if observed_on < ae.onset_date:
        raise InvalidInput.for_field("observed_on", f"The open episode began on {ae.onset_date}: give a later date.")
    ae.ongoing, ae.end_date, ae.outcome = False, observed_on, AdverseEvent.Outcome.RECOVERED
    ae.lab_resolved_within_days = (observed_on - ae.onset_date).days
    reason = f"Lab result of {observed_on} no longer graded ({graded.reason}): episode closed"
    return _save_episode(ae, actor=actor, reason=reason)


def _worsen_episode(ae: AdverseEvent, graded: LabGrade, observed_on: date, actor) -> AdverseEvent:
    previous, ae.grade = ae.grade, graded.grade
    return _save_episode(
        ae, actor=actor, reason=f"Lab result of {observed_on}: grade {previous} → {graded.grade} ({graded.reason})"
    )


def _apply(graded: LabGrade, open_ae: AdverseEvent | None, *, subject, row, observed_on, actor, source=None):
    """Open, worsen, keep or close the episode; returns (action, AE or None)."""
    if graded.grade is None:
        return ("closed", _close_episode(open_ae, graded, observed_on, actor)) if open_ae else ("none", None)
    if open_ae is None:
        return "created", _open_episode(subject, row, graded, observed_on, actor, source=source or Source.LAB)
    if graded.grade <= open_ae.grade:
        return "unchanged", open_ae
    return "worsened", _worsen_episode(open_ae, graded, observed_on, actor)


def _baseline(subject: Subject, term: CatalogueTerm, baseline, baseline_reason: str) -> tuple:
    """(baseline in the entered unit or None, in the grading unit from the record or None, its source, reason)."""
    reason = (baseline_reason or "").strip()
    if baseline is not None:
        if not reason:
            message = "Give the reason the baseline replaces the subject's recorded one."
            raise InvalidInput.for_field("baseline_reason", message)
        return baseline, None, LabResult.BaselineSource.CALLER, reason
    if reason:
        raise InvalidInput.for_field("baseline_reason", "A baseline reason goes with a baseline: give the baseline.")
    recorded = selectors.screening_value_of(subject, units.analyte_of(term.code))
    if recorded is None:
        return None, None, LabResult.BaselineSource.NONE, ""
    converted = units.to_grading_unit(term.code, recorded.value, recorded.unit)
    return None, converted, LabResult.BaselineSource.SCREENING, ""


def _reading(term: CatalogueTerm, *, value, unit, lln, uln, baseline) -> units.LabReading:
    try:
        return units.lab_reading(
            term.code,
            value=value,
            unit=unit,
            lln=lln,
            uln=uln,
            baseline=baseline,
            needed=references_needed(term),
            term_name=term.name,
        )
    except units.LabInputError as error:
        raise InvalidInput(str(error), errors={field: [message] for field, message in error.errors.items()}) from error


def _observed_on_error(subject: Subject, observed_on: date) -> str | None:
    today = selectors.site_today(subject.site, now=timezone.now())
    if observed_on > today:
        return f"A lab result cannot be observed in the future (today is {today})."
    consented = selectors.consent_date_of(subject)
    if consented is not None and observed_on < consented:
        return f"A follow-up lab result cannot be observed before the subject's consent ({consented})."
    return None


@transaction.atomic
def lab_result_grade(
    *,
    actor: AbstractBaseUser,
    subject: Subject,
    analyte: str,
    value: Decimal,
    unit: str | None,
    lln: Decimal | None = None,
    uln: Decimal | None = None,
    baseline: Decimal | None = None,
    baseline_reason: str = "",
    observed_on: date,
    on_anticoagulation: bool = False,
) -> LabResultGrade:
    """Validate, convert to the grading unit and grade a lab value; store it and open, worsen or close the episode.

    The baseline is the subject's screening value of the analyte unless the caller gives one with a reason.
    """
    require_site_member(actor, subject)
    raise_if_any({"observed_on": _observed_on_error(subject, observed_on)})
    term = _lab_term(analyte)
    given_baseline, recorded_baseline, baseline_source, baseline_reason = _baseline(
        subject, term, baseline, baseline_reason
    )
    reading = _reading(term, value=value, unit=unit, lln=lln, uln=uln, baseline=given_baseline)
    graded_baseline = reading.baseline if given_baseline is not None else recorded_baseline
    graded = _grade(
        term,
        reading.value,
        lln=reading.lln,
        uln=reading.uln,
        baseline=graded_baseline,
        on_anticoagulation=on_anticoagulation,
    )
    row = _catalogue_row(term)
    subject = subject_lock(subject)
    action, ae = _episode(graded, subject=subject, row=row, observed_on=observed_on, actor=actor, source=Source.LAB)
    result = LabResult(
        subject=subject,
        ctcae_term=row,
        observed_on=observed_on,
        value=value,
        unit=unit,
        lln=lln,
        uln=uln,
        grading_unit=units.grading_unit(term.code),
        graded_value=reading.value,
        graded_lln=reading.lln,
        graded_uln=reading.uln,
        baseline=graded_baseline,
        baseline_source=baseline_source,
        baseline_reason=baseline_reason,
        on_anticoagulation=on_anticoagulation,
        grade=graded.grade,
        grade_reason=graded.reason,
        ctcae_version=graded.ctcae_version,
        action=action,
        adverse_event=ae,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    save_audited(result, actor=actor, reason=f"Lab result recorded: {graded.reason}")
    return LabResultGrade(graded.grade, graded.reason, graded.ctcae_version, action, ae)


def _episode(graded: LabGrade, *, subject, row, observed_on: date, actor, source: str):
    """Lock the term's open episode of this source and open, worsen, keep or close it."""
    episodes = AdverseEvent.objects.filter(subject=subject, ctcae_term=row, source=source)
    current = episodes.filter(ongoing=True).first()
    open_ae = ae_lock(current) if current else None
    return _apply(graded, open_ae, subject=subject, row=row, observed_on=observed_on, actor=actor, source=source)
