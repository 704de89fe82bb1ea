"""A saved screening as its Appendix A document, and a parsed document as the values of the screening's rows.

`screening_document` is what the eligibility engine evaluates and what the investigator's signature digests, so it
is canonical: numbers without trailing zeros, dates as ISO text, instants in site-local time with their offset.
"""

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from enrollment.models import HISTORY_EVENTS, Screening
from enrollment.rules.document import UNANSWERED, History, ScreeningDocument, Serology
from enrollment.rules.units import ACCEPTED_UNITS

# The document's top-level keys in Appendix A order.
DOCUMENT_KEYS = (
    "sex",
    "date_of_birth",
    "consent_signed_on",
    "screening_date",
    "planned_enrollment_date",
    "planned_infusion_at",
    "height_cm",
    "weight_kg",
    "malignancy_confirmed",
    "thrombocytopenia_due_to_anticancer_therapy",
    "active_bleeding",
    "last_platelet_transfusion_at",
    "ecog",
    "life_expectancy_months",
    "wocbp",
    "partner_wocbp",
    "contraception_agreed",
    "pregnancy_test",
    "liver_cancer_or_metastasis",
    "labs",
    "serology",
    "history",
)
TRANSFUSION = "last_platelet_transfusion_at"
# Top-level fields stored under the same name on Screening (the others are built apart).
PLAIN_FIELDS = tuple(
    key
    for key in DOCUMENT_KEYS
    if key
    not in {"consent_signed_on", "planned_infusion_at", TRANSFUSION, "pregnancy_test", "labs", "serology", "history"}
)
HISTORY_FIELDS = tuple(field.name for field in fields(History))
SEROLOGY_FIELDS = tuple(field.name for field in fields(Serology))
LAB_PARTS = ("value", "unit", "uln", "lln")
TEXT_FIELDS = frozenset({"sex", "unit", "hiv_ab", "tp_ab", "hcv_ab", "hbsag", "hbcab"})


def canonical(value: Any) -> Any:
    """A stored value as document JSON: integral numbers as int, others as plain Decimals, dates as text."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else Decimal(format(value.normalize(), "f"))
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def screening_document(screening: Screening) -> dict[str, Any]:
    """The Appendix A document rebuilt from the screening's rows (consent date from its Consent record)."""
    site = screening.subject.site
    doc = {name: canonical(getattr(screening, name)) for name in PLAIN_FIELDS}
    doc["consent_signed_on"] = site.local_date(screening.consent.signed_at).isoformat()
    doc["planned_infusion_at"] = _instant(screening.planned_infusion_at, site)
    if screening.last_platelet_transfusion_answered:
        doc[TRANSFUSION] = _instant(screening.last_platelet_transfusion_at, site)
    doc["pregnancy_test"] = _pregnancy_test(screening)
    doc["labs"] = _labs(screening)
    serology = getattr(screening, "serology", None)
    doc["serology"] = {name: canonical(getattr(serology, name, None)) for name in SEROLOGY_FIELDS}
    doc["history"] = _history(screening)
    return {key: doc[key] for key in DOCUMENT_KEYS if key in doc}


def _instant(value: datetime | None, site) -> str | None:
    return None if value is None else site.local_isoformat(value)


def _pregnancy_test(screening: Screening) -> dict | None:
    test = {"date": canonical(screening.pregnancy_test_date), "result": canonical(screening.pregnancy_test_result)}
    return None if test == {"date": None, "result": None} else test


def _labs(screening: Screening) -> dict[str, dict]:
    order = list(ACCEPTED_UNITS)
    rows = sorted(screening.labs.all(), key=lambda lab: order.index(lab.analyte))
    return {lab.analyte: {part: canonical(getattr(lab, part)) for part in LAB_PARTS} for lab in rows}


def _history(screening: Screening) -> dict[str, Any]:
    """History items; an unanswered dated event is left out (absent means unanswered, null means none)."""
    items = {}
    for name in HISTORY_FIELDS:
        if name in HISTORY_EVENTS and not getattr(screening, f"{name}_answered"):
            continue
        items[name] = canonical(getattr(screening, name))
    return items


@dataclass(frozen=True)
class ScreeningValues:
    """A parsed document as model field values: the Screening's, each lab's (by analyte) and the serology's."""

    screening: dict[str, Any]
    labs: dict[str, dict[str, Any]]
    serology: dict[str, Any]


def screening_values(doc: ScreeningDocument) -> ScreeningValues:
    """The row values that store a parsed document (the consent date is the Consent record's, not stored)."""
    values = {name: _stored(name, getattr(doc, name)) for name in PLAIN_FIELDS}
    values["planned_infusion_at"] = doc.planned_infusion_at
    values.update(_event(TRANSFUSION, doc.last_platelet_transfusion_at, answered="last_platelet_transfusion_answered"))
    test = doc.pregnancy_test
    values["pregnancy_test_date"] = test.date if test else None
    values["pregnancy_test_result"] = (test.result if test else None) or ""
    for name in HISTORY_FIELDS:
        value = getattr(doc.history, name)
        if name in HISTORY_EVENTS:
            values.update(_event(name, value, answered=f"{name}_answered"))
        else:
            values[name] = value
    labs = {
        analyte: {part: _stored(part, getattr(lab, part)) for part in LAB_PARTS}
        for analyte in ACCEPTED_UNITS
        if (lab := getattr(doc.labs, analyte)) is not None
    }
    serology = {name: _stored(name, getattr(doc.serology, name)) for name in SEROLOGY_FIELDS}
    return ScreeningValues(screening=values, labs=labs, serology=serology)


def _stored(name: str, value: Any) -> Any:
    """None becomes '' in text fields (sex, units, test results); everything else is stored as parsed."""
    return "" if value is None and name in TEXT_FIELDS else value


def _event(name: str, value: Any, *, answered: str) -> dict[str, Any]:
    if value is UNANSWERED:
        return {name: None, answered: False}
    return {name: value, answered: True}


# Where a model field's validation error belongs in the document (dotted path, as the parser names fields).
def screening_field_path(name: str) -> str:
    """The document path of a Screening field."""
    if name == "__all__":
        return "non_field_errors"
    if name.startswith("pregnancy_test_"):
        return f"pregnancy_test.{name.removeprefix('pregnancy_test_')}"
    name = name.removesuffix("_answered")
    if name == "last_platelet_transfusion":
        return TRANSFUSION
    return f"history.{name}" if name in HISTORY_FIELDS else name


def lab_field_path(analyte: str, name: str) -> str:
    """The document path of a ScreeningLab field."""
    return f"labs.{analyte}" if name == "__all__" else f"labs.{analyte}.{name}"


def serology_field_path(name: str) -> str:
    """The document path of a ScreeningSerology field."""
    return "serology" if name == "__all__" else f"serology.{name}"
