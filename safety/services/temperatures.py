"""Body temperatures graded for fever by CTCAE: one fever AE per episode, worst grade kept, closed when normal."""

from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import save_audited
from ctit_trial.errors import InvalidInput
from enrollment.models import Subject
from safety import selectors
from safety.models import AdverseEvent, TemperatureRecord
from safety.rules.catalogue import to_decimal
from safety.rules.grading import LabGrade, grade_fever, temperature_errors
from safety.services.adverse_events import ae_lock
from safety.services.common import raise_if_any, require_site_member, subject_lock
from safety.services.labs import LabResultGrade, _catalogue_row, _open_episode, _save_episode

FEVER = "fever"
Source = AdverseEvent.Source


def _number(value, field: str, *, required: bool = False) -> Decimal | None:
    if value is None and required:
        raise InvalidInput.for_field(field, "Give the body temperature in °C.")
    try:
        return None if value is None else to_decimal(value, name=field)
    except (TypeError, ValueError) as error:
        raise InvalidInput.for_field(field, str(error)) from error


def _measured_at_error(subject: Subject, measured_at: datetime) -> str | None:
    if measured_at.utcoffset() is None:
        return "Give the measurement time with its UTC offset."
    if measured_at > timezone.now():
        return "A temperature cannot be measured in the future."
    consented = selectors.consent_date_of(subject)
    if consented is not None and subject.site.local_date(measured_at) < consented:
        return f"A temperature cannot be measured before the subject's consent ({consented})."
    return None


def _source_error(source: str) -> str | None:
    limit = TemperatureRecord._meta.get_field("source").max_length
    if not isinstance(source, str) or not source.strip():
        return "Say where the temperature was recorded (e.g. 'infusion vital signs', 'visit D2')."
    return f"The source is at most {limit} characters." if len(source.strip()) > limit else None


def _episode_start(ae: AdverseEvent) -> datetime:
    first = TemperatureRecord.objects.filter(adverse_event=ae, grade__isnull=False).order_by("measured_at").first()
    return first.measured_at


def _close(ae: AdverseEvent, graded: LabGrade, measured_at: datetime, actor) -> AdverseEvent:
    started = _episode_start(ae)
    if measured_at < started:
        raise InvalidInput.for_field(
            "measured_at", f"The open fever episode began at {started:%Y-%m-%d %H:%M} UTC: give a later time."
        )
    ae.ongoing, ae.outcome = False, AdverseEvent.Outcome.RECOVERED
    ae.end_date = ae.subject.site.local_date(measured_at)
    ae.fever_resolved_within_hours = Decimal((measured_at - started).total_seconds() / 3600).quantize(Decimal("0.1"))
    reason = f"Temperature at {measured_at:%Y-%m-%d %H:%M} UTC no longer graded ({graded.reason}): episode closed"
    return _save_episode(ae, actor=actor, reason=reason)


def _worsen(ae: AdverseEvent, graded: LabGrade, measured_at: datetime, actor) -> AdverseEvent:
    previous, ae.grade = ae.grade, graded.grade
    reason = f"Temperature at {measured_at:%Y-%m-%d %H:%M} UTC: grade {previous} → {graded.grade} ({graded.reason})"
    return _save_episode(ae, actor=actor, reason=reason)


def _apply(graded: LabGrade, *, subject: Subject, measured_at: datetime, actor) -> tuple[str, AdverseEvent | None]:
    """Open, worsen, keep or close the subject's fever episode; returns (action, AE or None)."""
    row = _catalogue_row(selectors.catalogue().term(FEVER))
    current = AdverseEvent.objects.filter(subject=subject, ctcae_term=row, source=Source.TEMPERATURE, ongoing=True)
    open_ae = ae_lock(current.first()) if current.exists() else None
    if graded.grade is None:
        return ("closed", _close(open_ae, graded, measured_at, actor)) if open_ae else ("none", None)
    if open_ae is None:
        onset = subject.site.local_date(measured_at)
        return "created", _open_episode(subject, row, graded, onset, actor, source=Source.TEMPERATURE)
    if graded.grade <= open_ae.grade:
        return "unchanged", open_ae
    return "worsened", _worsen(open_ae, graded, measured_at, actor)


@transaction.atomic
def temperature_record(
    *,
    actor: AbstractBaseUser,
    subject: Subject,
    measured_at: datetime,
    temperature_c: Decimal,
    source: str,
    sustained_hours: Decimal | None = None,
) -> LabResultGrade:
    """Record a body temperature, grade fever by CTCAE and open, worsen or close the subject's fever episode."""
    require_site_member(actor, subject)
    temperature, hours = (
        _number(temperature_c, "temperature_c", required=True),
        _number(sustained_hours, "sustained_hours"),
    )
    raise_if_any(
        {
            "measured_at": _measured_at_error(subject, measured_at),
            **temperature_errors(temperature, hours),
            "source": _source_error(source),
        }
    )
    graded = grade_fever(temperature, sustained_hours=hours, catalogue=selectors.catalogue())
    subject = subject_lock(subject)
    action, ae = _apply(graded, subject=subject, measured_at=measured_at, actor=actor)
    record = TemperatureRecord(
        subject=subject,
        measured_at=measured_at,
        temperature_c=temperature,
        sustained_hours=hours,
        source=source.strip(),
        grade=graded.grade,
        grade_reason=graded.reason,
        ctcae_version=graded.ctcae_version,
        action=action,
        adverse_event=ae,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    save_audited(record, actor=actor, reason=f"Temperature recorded ({record.source}): {graded.reason}")
    return LabResultGrade(graded.grade, graded.reason, graded.ctcae_version, action, ae)
