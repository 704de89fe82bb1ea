"""Reads of the subject's enrollment record that safety checks against: consent date, screening lab values."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from enrollment.models import Consent, ScreeningLab, Subject


@dataclass(frozen=True)
class ScreeningValue:
    """One analyte's value on the subject's current (latest) screening, in its own unit."""

    value: Decimal
    unit: str
    screening_date: date


def consent_date_of(subject: Subject) -> date | None:
    """The site-local day of the subject's first consent (None when none is recorded)."""
    consent = Consent.objects.filter(subject=subject).order_by("signed_at", "pk").first()
    return subject.site.local_date(consent.signed_at) if consent else None


def screening_value_of(subject: Subject, analyte: str) -> ScreeningValue | None:
    """The analyte's value on the subject's latest screening attempt (None when absent or without a unit)."""
    lab = (
        ScreeningLab.objects.filter(screening__subject=subject, analyte=analyte, value__isnull=False)
        .exclude(unit="")
        .select_related("screening")
        .order_by("-screening__attempt")
        .first()
    )
    return ScreeningValue(lab.value, lab.unit, lab.screening.screening_date) if lab else None
