"""The screening document (PROTOCOL.md Appendix A): parsed and validated into frozen dataclasses."""

import enum
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ctit_trial.errors import InvalidInput
from enrollment.rules.units import ACCEPTED_UNITS

SEXES = ("F", "M")
TEST_RESULTS = ("positive", "negative")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class Unanswered(enum.Enum):
    """An event field left out of the document (its key absent), unlike null, which records 'none'."""

    UNANSWERED = "unanswered"


UNANSWERED = Unanswered.UNANSWERED


class DocumentError(InvalidInput):
    """The screening document is malformed; `errors` maps dotted field paths to messages (HTTP 400)."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("The screening document is invalid.", errors=errors)


@dataclass(frozen=True)
class LabValue:
    """One lab result with its own unit and site reference range."""

    value: Decimal | None
    unit: str | None
    uln: Decimal | None
    lln: Decimal | None


@dataclass(frozen=True)
class Labs:
    """The screening labs; an absent or null lab is None."""

    platelets: LabValue | None
    anc: LabValue | None
    hemoglobin: LabValue | None
    aptt: LabValue | None
    inr: LabValue | None
    total_bilirubin: LabValue | None
    alt: LabValue | None
    ast: LabValue | None
    creatinine: LabValue | None


@dataclass(frozen=True)
class PregnancyTest:
    """The WOCBP pregnancy test."""

    date: date | None
    result: str | None


@dataclass(frozen=True)
class Serology:
    """Screening serology; antibody and antigen results are 'positive' or 'negative'."""

    hiv_ab: str | None
    tp_ab: str | None
    hcv_ab: str | None
    hcv_rna_above_uln: bool | None
    hbsag: str | None
    hbv_history: bool | None
    hbcab: str | None
    hbv_dna_iu_ml: Decimal | None
    hbv_dna_date: date | None


@dataclass(frozen=True)
class History:
    """Yes/no history items and dates of the last event (None: none on record; UNANSWERED: not given)."""

    platelet_transfusion_refractoriness: bool | None
    severe_transfusion_allergy: bool | None
    other_cause_of_thrombocytopenia_or_bleeding_disorder: bool | None
    splenomegaly_or_hypersplenism: bool | None
    last_thrombopoietic_drug_on: date | None | Unanswered
    severe_bleeding: bool | None
    hemophilia_or_coagulation_disorder: bool | None
    last_thromboembolism_on: date | None | Unanswered
    last_catheter_thrombosis_on: date | None | Unanswered
    last_cardiac_disease_on: date | None | Unanswered
    severe_cardiovascular_history: bool | None
    last_major_surgery_on: date | None | Unanswered
    major_surgery_planned: bool | None
    last_anticoagulant_on: date | None | Unanswered
    active_infection_requiring_iv_antibiotics: bool | None
    allergy_to_product: bool | None
    similar_investigational_product_within_4_weeks: bool | None
    in_other_interventional_trial: bool | None
    hsct_with_acute_gvhd_requiring_treatment: bool | None
    pregnant_or_lactating: bool | None
    investigator_excludes: bool | None


@dataclass(frozen=True)
class ScreeningDocument:
    """One subject's screening data; instants are timezone-aware UTC."""

    sex: str | None
    date_of_birth: date | None
    consent_signed_on: date | None
    screening_date: date | None
    planned_enrollment_date: date | None
    planned_infusion_at: datetime | None
    height_cm: Decimal | None
    weight_kg: Decimal | None
    malignancy_confirmed: bool | None
    thrombocytopenia_due_to_anticancer_therapy: bool | None
    active_bleeding: bool | None
    last_platelet_transfusion_at: datetime | None | Unanswered
    ecog: int | None
    life_expectancy_months: Decimal | None
    wocbp: bool | None
    partner_wocbp: bool | None
    contraception_agreed: bool | None
    pregnancy_test: PregnancyTest | None
    liver_cancer_or_metastasis: bool | None
    labs: Labs
    serology: Serology
    history: History


class _Reader:
    """Reads typed values out of nested mappings, collecting every error under its dotted path."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def section(self, data: Mapping, path: str, allowed: tuple[str, ...]) -> Mapping:
        """A nested object (empty when absent or null); unknown keys are errors."""
        if data is None:
            return {}
        if not isinstance(data, Mapping):
            self.error(path, "Must be an object.")
            return {}
        for key in data:
            if key not in allowed:
                self.error(_join(path, str(key)), "Unknown field.")
        return data

    def read(self, data: Mapping, path: str, key: str, convert: Callable[[Any], Any]) -> Any:
        """The converted value of `key`, None when absent or null, None and an error when invalid."""
        value = data.get(key)
        if value is None:
            return None
        try:
            return convert(value)
        except ValueError as exc:
            self.error(_join(path, key), str(exc))
            return None

    def event(self, data: Mapping, path: str, key: str, convert: Callable[[Any], Any]) -> Any:
        """Like read, but an absent key is UNANSWERED while an explicit null means 'none on record'."""
        return self.read(data, path, key, convert) if key in data else UNANSWERED


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("Must be true or false.")
    return value


def _number(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("Must be a number.")
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError("Must be a finite number.")
    return number


def _non_negative(value: Any) -> Decimal:
    number = _number(value)
    if number < 0:
        raise ValueError("Must not be negative.")
    return number


def _positive(value: Any) -> Decimal:
    number = _number(value)
    if number <= 0:
        raise ValueError("Must be greater than zero.")
    return number


def _ecog(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
        raise ValueError("Must be an integer from 0 to 5.")
    return value


def _iso_date(value: Any) -> date:
    try:
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ValueError(f"Invalid date {value!r}; expected an ISO date (YYYY-MM-DD).")


def _instant(value: Any) -> datetime:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) and "T" in value else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(f"Invalid instant {value!r}; expected ISO 8601 such as 2026-03-10T09:00:00+08:00.")
    if parsed.utcoffset() is None:
        raise ValueError(f"Instant {value!r} has no UTC offset; add one (e.g. +08:00).")
    return parsed.astimezone(UTC)


def _choice(label: str, options: tuple[str, ...]) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if value not in options:
            raise ValueError(f"Unknown {label} {value!r}; expected one of: {', '.join(options)}.")
        return value

    return convert


def _lab(reader: _Reader, data: Any, path: str, analyte: str) -> LabValue | None:
    """One lab object: value (creatinine > 0, others ≥ 0), an accepted unit, uln > 0, lln ≥ 0."""
    if data is None:
        return None
    lab = reader.section(data, path, ("value", "unit", "uln", "lln"))
    units = ACCEPTED_UNITS[analyte]
    value_check = _positive if analyte == "creatinine" else _non_negative
    return LabValue(
        value=reader.read(lab, path, "value", value_check),
        unit=reader.read(lab, path, "unit", _choice("unit", units)),
        uln=reader.read(lab, path, "uln", _positive),
        lln=reader.read(lab, path, "lln", _non_negative),
    )


def _labs(reader: _Reader, data: Any) -> Labs:
    section = reader.section(data, "labs", tuple(ACCEPTED_UNITS))
    return Labs(**{name: _lab(reader, section.get(name), f"labs.{name}", name) for name in ACCEPTED_UNITS})


def _serology(reader: _Reader, data: Any) -> Serology:
    section = reader.section(data, "serology", tuple(field.name for field in fields(Serology)))
    converters = {"hcv_rna_above_uln": _boolean, "hbv_history": _boolean}
    converters |= {"hbv_dna_iu_ml": _non_negative, "hbv_dna_date": _iso_date}
    result = _choice("result", TEST_RESULTS)
    values = {
        f.name: reader.read(section, "serology", f.name, converters.get(f.name, result)) for f in fields(Serology)
    }
    return Serology(**values)


def _history(reader: _Reader, data: Any) -> History:
    section = reader.section(data, "history", tuple(field.name for field in fields(History)))
    values = {}
    for field in fields(History):
        if field.name.startswith("last_"):
            values[field.name] = reader.event(section, "history", field.name, _iso_date)
        else:
            values[field.name] = reader.read(section, "history", field.name, _boolean)
    return History(**values)


def _pregnancy_test(reader: _Reader, data: Any) -> PregnancyTest | None:
    if data is None:
        return None
    section = reader.section(data, "pregnancy_test", ("date", "result"))
    return PregnancyTest(
        date=reader.read(section, "pregnancy_test", "date", _iso_date),
        result=reader.read(section, "pregnancy_test", "result", _choice("result", TEST_RESULTS)),
    )


_TOP_LEVEL: dict[str, Callable[[Any], Any]] = {
    "sex": _choice("sex", SEXES),
    "date_of_birth": _iso_date,
    "consent_signed_on": _iso_date,
    "screening_date": _iso_date,
    "planned_enrollment_date": _iso_date,
    "planned_infusion_at": _instant,
    "height_cm": _positive,
    "weight_kg": _positive,
    "malignancy_confirmed": _boolean,
    "thrombocytopenia_due_to_anticancer_therapy": _boolean,
    "active_bleeding": _boolean,
    "ecog": _ecog,
    "life_expectancy_months": _non_negative,
    "wocbp": _boolean,
    "partner_wocbp": _boolean,
    "contraception_agreed": _boolean,
    "liver_cancer_or_metastasis": _boolean,
}
_SECTIONS = ("last_platelet_transfusion_at", "pregnancy_test", "labs", "serology", "history")


def parse_screening_document(data: Mapping[str, Any]) -> ScreeningDocument:
    """Validate a decoded JSON screening document; raises DocumentError listing every problem."""
    if not isinstance(data, Mapping):
        raise DocumentError({"non_field_errors": ["Must be an object."]})
    reader = _Reader()
    top = reader.section(data, "", (*_TOP_LEVEL, *_SECTIONS))
    values = {key: reader.read(top, "", key, convert) for key, convert in _TOP_LEVEL.items()}
    document = ScreeningDocument(
        **values,
        last_platelet_transfusion_at=reader.event(top, "", "last_platelet_transfusion_at", _instant),
        pregnancy_test=_pregnancy_test(reader, top.get("pregnancy_test")),
        labs=_labs(reader, top.get("labs")),
        serology=_serology(reader, top.get("serology")),
        history=_history(reader, top.get("history")),
    )
    _check_birth_date(reader, document)
    if reader.errors:
        raise DocumentError(reader.errors)
    return document


def _check_birth_date(reader: _Reader, document: ScreeningDocument) -> None:
    """A date of birth after the consent date (or, failing that, the screening date) is impossible."""
    born = document.date_of_birth
    for label, later in (("consent date", document.consent_signed_on), ("screening date", document.screening_date)):
        if born is not None and later is not None and born > later:
            reader.error("date_of_birth", f"Date of birth {born} is after the {label} {later}.")
            return
