"""Adverse events: recorded and corrected (with a reason), validated field by field, DLT-flagged on every save."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import require_reason, save_audited
from enrollment.models import Subject
from enrollment.selectors import protocol_current
from safety import selectors
from safety.models import SERIOUSNESS_CRITERIA, AdverseEvent
from safety.rules.catalogue import UnknownTerm
from safety.rules.reminders import ae_ref
from safety.services.common import raise_if_any, require_site_member
from safety.services.dlt import dlt_flag_store
from safety.services.notifications import notifications_cancel_stale

AE_FIELDS = (
    *("verbatim_term", "ctcae_term", "other_term", "other_meddra_code", "grade", "onset_date", "end_date"),
    *("ongoing", "serious", *SERIOUSNESS_CRITERIA, "relatedness", "expectedness", "action_taken", "outcome"),
    *("treatment", "fever_resolved_within_hours", "lab_resolved_within_days", "resolved_without_sequelae"),
    *("neutropenia_duration_days", "awareness_at", "sponsor_aware_on", "susar_reported_on"),
)
Source = AdverseEvent.Source


def _term_errors(ae: AdverseEvent) -> dict[str, str | None]:
    other = bool(ae.other_term or ae.other_meddra_code)
    if ae.ctcae_term_id and other:
        return {"ctcae_term": "Give a catalogue CTCAE term or another term with its MedDRA code, not both."}
    if not ae.ctcae_term_id and not other:
        return {"ctcae_term": "Give the CTCAE term, or another term (other_term) with its MedDRA code."}
    if other:
        code = ae.other_meddra_code
        return {
            "other_term": None if ae.other_term.strip() else "Give the name of the other CTCAE term.",
            "other_meddra_code": None if code.isdigit() and len(code) == 8 else "A MedDRA code is 8 digits.",
        }
    try:
        grades = selectors.catalogue().term(ae.ctcae_term.code).grades
    except UnknownTerm:
        return {}
    if ae.grade in grades:
        return {}
    listed = ", ".join(str(grade) for grade in grades)
    return {"grade": f"{ae.ctcae_term.term} has no grade {ae.grade} in CTCAE (grades {listed})."}


def _consent_error(ae: AdverseEvent) -> str | None:
    consented = selectors.consent_date_of(ae.subject)
    if consented is not None and ae.onset_date < consented:
        return f"The onset date cannot be before the subject's consent ({consented}): an AE is recorded from consent."
    return None


def _dates_errors(ae: AdverseEvent, today) -> dict[str, str | None]:
    end = ae.end_date
    if ae.ongoing and end is not None:
        end_error = "An ongoing AE has no end date."
    elif not ae.ongoing and end is None:
        end_error = "Give the end date of an AE that is no longer ongoing."
    elif end is not None and end < ae.onset_date:
        end_error = "The end date cannot be before the onset date."
    else:
        end_error = "The end date cannot be in the future." if end is not None and end > today else None
    onset_error = f"The onset date cannot be in the future (today is {today})." if ae.onset_date > today else None
    onset_error = onset_error or _consent_error(ae)
    return {"onset_date": onset_error, "end_date": end_error}


def _seriousness_errors(ae: AdverseEvent, now: datetime) -> dict[str, str | None]:
    criteria = ae.seriousness_criteria
    if ae.serious and not criteria:
        serious = "A serious AE needs at least one ICH E2A criterion (death, life-threatening, hospitalization, …)."
    elif criteria and not ae.serious:
        serious = f"An AE meeting an ICH E2A criterion ({', '.join(criteria)}) is serious."
    else:
        serious = None
    if ae.serious and ae.awareness_at is None:
        awareness = "Give when the site became aware of the SAE: the 24-hour reporting clock starts then."
    else:
        awareness = "Awareness cannot be in the future." if ae.awareness_at and ae.awareness_at > now else None
    return {"serious": serious, "awareness_at": awareness}


def _death_errors(ae: AdverseEvent) -> dict[str, str]:
    """Death (ICH E2A) and CTCAE grade 5 go together: a fatal AE is serious by the death criterion."""
    if ae.grade == 5 and not ae.sae_death:
        return {"sae_death": "A grade 5 (fatal) AE results in death: the death criterion applies."}
    if ae.grade == 5 and not ae.serious:
        return {"serious": "A grade 5 (fatal) AE is serious (death criterion): the SAE 24-hour clock applies."}
    if ae.sae_death and ae.grade != 5:
        return {"sae_death": "Only a grade 5 AE (outcome 'fatal') results in death."}
    return {}


def _awareness_error(ae: AdverseEvent) -> dict[str, str]:
    if ae.awareness_at is None or ae.onset_date is None:
        return {}
    aware_on = ae.subject.site.local_date(ae.awareness_at)
    if aware_on < ae.onset_date:
        return {"awareness_at": f"Awareness ({aware_on}) cannot precede the onset of the AE ({ae.onset_date})."}
    return {}


def _assessment_errors(ae: AdverseEvent) -> dict[str, str | None]:
    assessed_later = ae.source in (Source.LAB, Source.TEMPERATURE)
    fatal = ae.outcome == AdverseEvent.Outcome.FATAL
    return {
        "relatedness": None
        if ae.relatedness or assessed_later
        else "Assess the relatedness to XJ-MK-002 (definitely, probably, possibly, unlikely, not related).",
        "expectedness": None
        if ae.expectedness or assessed_later
        else "Assess the expectedness (expected, unexpected).",
        "outcome": None
        if fatal == (ae.grade == 5)
        else ("A grade 5 AE has the outcome 'fatal'." if ae.grade == 5 else "A fatal outcome is CTCAE grade 5."),
    }


def ae_errors(ae: AdverseEvent, *, now: datetime) -> dict[str, str | None]:
    """Every field-level problem of an AE as it would be saved (site-local today for its dates)."""
    today = selectors.site_today(ae.subject.site, now=now)
    return {
        **_term_errors(ae),
        **_dates_errors(ae, today),
        **_seriousness_errors(ae, now),
        **_assessment_errors(ae),
        **_awareness_error(ae),
        **_death_errors(ae),
    }


def _derive_death(ae: AdverseEvent, *, given: set[str], now: datetime) -> None:
    """A grade 5 AE is serious by the death criterion, the site aware when it records it (unless told otherwise)."""
    if ae.grade != 5:
        return
    for field in ("serious", "sae_death"):
        if field not in given:
            setattr(ae, field, True)
    if "awareness_at" not in given and ae.awareness_at is None:
        ae.awareness_at = now


def _save(ae: AdverseEvent, *, actor: AbstractBaseUser, reason: str) -> AdverseEvent:
    """Validate, derive the stored copies (CTCAE version, SUSAR), save, and flag DLT candidates."""
    raise_if_any(ae_errors(ae, now=timezone.now()))
    ae.ctcae_version = ae.ctcae_term.ctcae_version if ae.ctcae_term_id else protocol_current().ctcae_version
    ae.susar = selectors.is_susar(ae)
    save_audited(ae, actor=actor, reason=reason)
    dlt_flag_store(actor=actor, ae=ae, reason=f"DLT flag computed: {reason}")
    return ae


def _check_fields(values: dict[str, Any]) -> None:
    unknown = sorted(set(values) - set(AE_FIELDS))
    if unknown:
        raise TypeError(f"Not adverse event fields: {', '.join(unknown)}.")


@transaction.atomic
def ae_record(*, actor: AbstractBaseUser, subject: Subject, **values: Any) -> AdverseEvent:
    """Record an adverse event of a subject at the actor's site."""
    _check_fields(values)
    require_site_member(actor, subject)
    values.setdefault("ongoing", values.get("end_date") is None)
    ae = AdverseEvent(subject=subject, recorded_by=actor, recorded_at=timezone.now(), **values)
    _derive_death(ae, given=set(values), now=ae.recorded_at)
    return _save(ae, actor=actor, reason="Adverse event recorded")


def ae_lock(ae: AdverseEvent) -> AdverseEvent:
    """Row-lock the AE (re-read with its subject and term)."""
    events = AdverseEvent.objects.select_for_update(of=("self",))
    return events.select_related("subject__site", "ctcae_term").get(pk=ae.pk)


@transaction.atomic
def ae_update(*, actor: AbstractBaseUser, ae: AdverseEvent, reason: str | None, **changes: Any) -> AdverseEvent:
    """Correct an AE (reason required); nothing is saved when nothing changes."""
    reason = require_reason(reason)
    _check_fields(changes)
    ae = ae_lock(ae)
    require_site_member(actor, ae.subject)
    if "end_date" in changes and "ongoing" not in changes:
        changes["ongoing"] = changes["end_date"] is None
    changed = {field: value for field, value in changes.items() if getattr(ae, field) != value}
    if not changed:
        return ae
    for field, value in changed.items():
        setattr(ae, field, value)
    _derive_death(ae, given=set(changes), now=timezone.now())
    _save(ae, actor=actor, reason=reason)
    notifications_cancel_stale(object_ref=ae_ref(ae.pk), reason=f"Adverse event corrected ({reason})")
    return ae
