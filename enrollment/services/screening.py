"""Screenings saved from their Appendix A document, corrected with a reason, and re-screens of screen failures."""

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from ctit_trial.audit import require_reason, save_audited
from ctit_trial.errors import Conflict
from enrollment.documents import (
    ScreeningValues,
    lab_field_path,
    screening_field_path,
    screening_values,
    serology_field_path,
)
from enrollment.models import Consent, Screening, ScreeningLab, ScreeningSerology, Site, Subject
from enrollment.rules import DocumentError, ScreeningDocument, parse_screening_document
from enrollment.selectors import consent_latest, screening_current
from enrollment.services.common import subject_lock, subject_status_change
from enrollment.services.eligibility import evaluate_and_store

Status = Subject.Status


@transaction.atomic
def screening_record(*, actor: AbstractBaseUser, subject: Subject, document: Any) -> Screening:
    """Save a new screening from its Appendix A document and store its eligibility evaluation."""
    subject = subject_lock(actor=actor, subject=subject)
    current = screening_current(subject)
    _check_can_screen(subject, current)
    consent = consent_latest(subject)
    if consent is None:
        raise Conflict(
            f"No informed consent is recorded for {subject}: screening data cannot be entered before consent."
        )
    values = screening_values(_parse(document, consent=consent, site=subject.site))
    attempt = current.attempt + 1 if current else 1
    if subject.status == Status.SCREEN_FAILED:
        subject_status_change(actor=actor, subject=subject, to=Status.SCREENING, reason=f"Re-screening (#{attempt})")
    screening = Screening(
        subject=subject, consent=consent, attempt=attempt, recorded_by=actor, recorded_at=timezone.now()
    )
    _store(screening, values, actor=actor, reason="Screening recorded")
    evaluate_and_store(actor=actor, screening=screening, reason="Eligibility evaluated on entry")
    return screening


@transaction.atomic
def screening_update(*, actor: AbstractBaseUser, screening: Screening, document: Any, reason: str | None) -> Screening:
    """Correct the current screening from a corrected document (reason required); evaluate again if it changed."""
    reason = require_reason(reason)
    subject = subject_lock(actor=actor, subject=screening.subject)
    screening = Screening.objects.select_for_update(of=("self",)).select_related("consent").get(pk=screening.pk)
    screening.subject = subject
    current = screening_current(subject)
    if subject.status != Status.SCREENING:
        raise Conflict(f"{subject} has status '{subject.status}': its screening data can no longer be changed.")
    if current.pk != screening.pk:
        raise Conflict(
            f"Screening #{screening.attempt} is not the current screening of {subject} (#{current.attempt} is): "
            f"earlier screenings stay as recorded."
        )
    values = screening_values(_parse(document, consent=screening.consent, site=subject.site))
    if _store(screening, values, actor=actor, reason=reason):
        evaluate_and_store(
            actor=actor, screening=screening, reason=f"Eligibility evaluated after a correction: {reason}"
        )
    return screening


def _check_can_screen(subject: Subject, current: Screening | None) -> None:
    """A first screening while screening, or a re-screen after a screen failure; nothing else."""
    if subject.status == Status.SCREENING and current is not None:
        raise Conflict(
            f"{subject} already has a current screening (#{current.attempt}): correct it with a reason, or record "
            f"a screen failure before re-screening."
        )
    if subject.status not in (Status.SCREENING, Status.SCREEN_FAILED):
        raise Conflict(f"{subject} has status '{subject.status}': no screening can be added.")


def _parse(document: Any, *, consent: Consent, site: Site) -> ScreeningDocument:
    """Validate the document against the recorded consent and the site's today (DocumentError names fields)."""
    consent_day = site.local_date(consent.signed_at)
    if isinstance(document, Mapping) and document.get("consent_signed_on") is None:
        document = {**document, "consent_signed_on": consent_day.isoformat()}
    parsed = parse_screening_document(document)
    errors: dict[str, list[str]] = {}
    if parsed.consent_signed_on != consent_day:
        errors["consent_signed_on"] = [
            f"Consent date {parsed.consent_signed_on} does not match the recorded consent "
            f"(version {consent.version}, signed on {consent_day} at {site.code})."
        ]
    screened, today = parsed.screening_date, site.today()
    if screened is None:
        errors["screening_date"] = ["The screening date is required to save a screening."]
    elif screened < consent_day:
        errors["screening_date"] = [f"Screening date {screened} is before the consent date {consent_day}."]
    elif screened > today:
        errors["screening_date"] = [f"Screening date {screened} is in the future (today at {site.code} is {today})."]
    if errors:
        raise DocumentError(errors)
    return parsed


def _store(screening: Screening, values: ScreeningValues, *, actor: AbstractBaseUser, reason: str) -> bool:
    """Write the screening's rows from document values, saving only rows that change; True if any did."""
    changed = _assign(screening, values.screening) or screening.pk is None
    if changed:
        _save(screening, actor=actor, reason=reason, path=screening_field_path)
    changed |= _store_labs(screening, values.labs, actor=actor, reason=reason)
    serology = getattr(screening, "serology", None) or ScreeningSerology(screening=screening)
    if _assign(serology, values.serology) or serology.pk is None:
        _save(serology, actor=actor, reason=reason, path=serology_field_path)
        changed = True
    return changed


def _store_labs(screening: Screening, labs: dict[str, dict], *, actor: AbstractBaseUser, reason: str) -> bool:
    """One row per lab in the document; a lab left out of a corrected document is deleted (with history)."""
    existing = {lab.analyte: lab for lab in ScreeningLab.objects.filter(screening=screening)}
    changed = False
    for analyte, lab_values in labs.items():
        lab = existing.pop(analyte, None) or ScreeningLab(screening=screening, analyte=analyte)
        if _assign(lab, lab_values) or lab.pk is None:
            _save(lab, actor=actor, reason=reason, path=partial(lab_field_path, analyte))
            changed = True
    for lab in existing.values():
        lab._history_user, lab._change_reason = actor, reason
        lab.delete()
        changed = True
    return changed


def _assign(instance: models.Model, values: dict[str, Any]) -> bool:
    """Set the fields whose value differs; True if any did."""
    changed = {field: value for field, value in values.items() if getattr(instance, field) != value}
    for field, value in changed.items():
        setattr(instance, field, value)
    return bool(changed)


def _save(instance: models.Model, *, actor: AbstractBaseUser, reason: str, path: Callable[[str], str]) -> None:
    """Save audited; a model validation error becomes a 400 naming the document's dotted field."""
    try:
        save_audited(instance, actor=actor, reason=reason)
    except ValidationError as error:
        raise DocumentError({path(field): messages for field, messages in error.message_dict.items()}) from error
