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
from safety.models import AdverseEvent, CtcaeTerm
from safety.rules.catalogue import CtcaeTerm as CatalogueTerm
from safety.rules.catalogue import UnknownTerm
from safety.rules.grading import GradingInputError, LabGrade, grade_lab
from safety.services.adverse_events import ae_errors, ae_lock
from safety.services.common import raise_if_any, require_site_member, subject_lock
from safety.services.dlt import dlt_flag_store

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


def _open_episode(subject: Subject, row: CtcaeTerm, graded: LabGrade, observed_on: date, actor) -> AdverseEvent:
    ae = AdverseEvent(
        subject=subject,
        source=AdverseEvent.Source.LAB,
        verbatim_term=row.term,
        ctcae_term=row,
        ctcae_version=graded.ctcae_version,
        grade=graded.grade,
        onset_date=observed_on,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    return _save_episode(ae, actor=actor, reason=f"Graded from the lab result of {observed_on}: {graded.reason}")


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


def _apply(graded: LabGrade, open_ae: AdverseEvent | None, *, subject, row, observed_on, actor):
    """Open, worsen, keep or close the episode; returns (action, AE or None)."""
    if graded.grade is None:
        return ("closed", _close_episode(open_ae, graded, observed_on, actor)) if open_ae else ("none", None)
    if open_ae is None:
        return "created", _open_episode(subject, row, graded, observed_on, actor)
    if graded.grade <= open_ae.grade:
        return "unchanged", open_ae
    return "worsened", _worsen_episode(open_ae, graded, observed_on, actor)


@transaction.atomic
def lab_result_grade(
    *,
    actor: AbstractBaseUser,
    subject: Subject,
    analyte: str,
    value: Decimal,
    lln: Decimal | None = None,
    uln: Decimal | None = None,
    baseline: Decimal | None = None,
    observed_on: date,
    on_anticoagulation: bool = False,
) -> LabResultGrade:
    """Grade a lab value and open, worsen or close the term's lab-graded AE episode."""
    require_site_member(actor, subject)
    today = selectors.site_today(subject.site, now=timezone.now())
    if observed_on > today:
        raise InvalidInput.for_field(
            "observed_on", f"A lab result cannot be observed in the future (today is {today})."
        )
    term = _lab_term(analyte)
    graded = _grade(term, value, lln=lln, uln=uln, baseline=baseline, on_anticoagulation=on_anticoagulation)
    row = _catalogue_row(term)
    subject = subject_lock(subject)
    episodes = AdverseEvent.objects.filter(subject=subject, ctcae_term=row, source=AdverseEvent.Source.LAB)
    current = episodes.filter(ongoing=True).first()
    open_ae = ae_lock(current) if current else None
    action, ae = _apply(graded, open_ae, subject=subject, row=row, observed_on=observed_on, actor=actor)
    return LabResultGrade(graded.grade, graded.reason, graded.ctcae_version, action, ae)
