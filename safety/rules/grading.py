"""CTCAE grading of lab values (from value, reference range and baseline) and of fever (from temperature)."""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from safety.rules.catalogue import (
    Criterion,
    CtcaeCatalogue,
    CtcaeTerm,
    SustainedRule,
    Threshold,
    to_decimal,
)

Number = Decimal | int | float | str

_COMPARE: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_REFERENCE_LABELS = {"lln": "LLN", "uln": "ULN", "baseline": "baseline"}


class GradingInputError(ValueError):
    """A value cannot be graded: a reference it needs is missing, or the term is not value-graded."""


@dataclass(frozen=True)
class LabGrade:
    """A CTCAE grade (None = not gradable as an AE: within the grade-free range) with its reason."""

    grade: int | None
    reason: str
    ctcae_version: str = "5.0"


@dataclass(frozen=True)
class _Inputs:
    value: Decimal
    lln: Decimal | None
    uln: Decimal | None
    baseline: Decimal | None
    on_anticoagulation: bool


@dataclass(frozen=True)
class _Outcome:
    grade: int | None
    detail: str


def _text(number: Decimal) -> str:
    """A Decimal without exponent or trailing zeros (120.0 → "120", 92.50 → "92.5")."""
    return format(number.normalize(), "f")


def _optional(value: Number | None, name: str) -> Decimal | None:
    return None if value is None else to_decimal(value, name=name)


def _reference(term: CtcaeTerm, inputs: _Inputs, reference: str) -> Decimal:
    amount = getattr(inputs, reference)
    if amount is None:
        raise GradingInputError(f"{term.name} needs the {_REFERENCE_LABELS[reference]} to grade this value.")
    return amount


def _limit(term: CtcaeTerm, inputs: _Inputs, threshold: Threshold) -> tuple[Decimal, str]:
    """The threshold's limit in the value's unit, and how it was derived."""
    if threshold.reference is None:
        return threshold.amount, str(threshold.amount)
    base = _reference(term, inputs, threshold.reference)
    limit = threshold.amount * base
    label = _REFERENCE_LABELS[threshold.reference]
    return limit, f"{_text(limit)} ({threshold.amount}×{label} {base})"


def _baseline_abnormal(term: CtcaeTerm, inputs: _Inputs) -> bool:
    """Whether the baseline lies outside the reference range on the side the term grades."""
    if inputs.baseline is None:
        return False
    if term.lab is not None and term.lab.direction == "low":
        return inputs.baseline < _reference(term, inputs, "lln")
    return inputs.baseline > _reference(term, inputs, "uln")


def _applies(term: CtcaeTerm, criterion: Criterion, inputs: _Inputs) -> bool:
    conditions = {
        "always": lambda: True,
        "baseline_given": lambda: inputs.baseline is not None,
        "baseline_normal": lambda: not _baseline_abnormal(term, inputs),
        "baseline_abnormal": lambda: _baseline_abnormal(term, inputs),
        "on_anticoagulation": lambda: inputs.on_anticoagulation,
        "not_on_anticoagulation": lambda: not inputs.on_anticoagulation,
    }
    return conditions[criterion.when]()


def _grade_thresholds(term: CtcaeTerm, inputs: _Inputs, thresholds: tuple[Threshold, ...]) -> _Outcome:
    """The highest grade whose threshold, and every lower one, the value meets (grades are cumulative)."""
    reached = _Outcome(None, "no thresholds")
    for threshold in thresholds:
        limit, described = _limit(term, inputs, threshold)
        if not _COMPARE[threshold.op](inputs.value, limit):
            if reached.grade is None:
                return _Outcome(None, f"not {threshold.op} {described} (grade {threshold.grade})")
            break
        reached = _Outcome(threshold.grade, f"{threshold.op} {described}")
    return reached


def _worst(outcomes: list[tuple[Criterion, _Outcome]]) -> int | None:
    grades = [outcome.grade for _, outcome in outcomes if outcome.grade is not None]
    return max(grades) if grades else None


def _reason(term: CtcaeTerm, value: Decimal, outcomes: list[tuple[Criterion, _Outcome]], grade: int | None) -> str:
    details = "; ".join(
        outcome.detail if len(outcomes) == 1 else f"{criterion.when}: {outcome.detail}"
        for criterion, outcome in outcomes
    )
    verdict = f"grade {grade}" if grade is not None else "not graded"
    return f"{term.name} {value}: {details} → {verdict}"


def grade_lab(
    term_code: str | int,
    value: Number,
    *,
    lln: Number | None = None,
    uln: Number | None = None,
    baseline: Number | None = None,
    on_anticoagulation: bool = False,
    catalogue: CtcaeCatalogue,
) -> LabGrade:
    """Grade a lab value by the catalogue term's CTCAE criteria; the worst applicable criterion wins."""
    term = catalogue.term(term_code)
    if term.lab is None:
        raise GradingInputError(f"{term.name} is not graded from a lab value.")
    inputs = _Inputs(
        value=to_decimal(value),
        lln=_optional(lln, "lln"),
        uln=_optional(uln, "uln"),
        baseline=_optional(baseline, "baseline"),
        on_anticoagulation=on_anticoagulation,
    )
    applicable = [criterion for criterion in term.lab.criteria if _applies(term, criterion, inputs)]
    outcomes = [(criterion, _grade_thresholds(term, inputs, criterion.thresholds)) for criterion in applicable]
    grade = _worst(outcomes)
    return LabGrade(grade, _reason(term, inputs.value, outcomes, grade), catalogue.version)


def grade_fever(
    temperature_c: Number,
    *,
    sustained_hours: Number | None = None,
    catalogue: CtcaeCatalogue,
    term_code: str = "fever",
) -> LabGrade:
    """Grade fever from a body temperature (°C) and the hours it stayed above the top value threshold."""
    term = catalogue.term(term_code)
    if term.temperature is None:
        raise GradingInputError(f"{term.name} is not graded from a temperature.")
    inputs = _Inputs(to_decimal(temperature_c, name="temperature_c"), None, None, None, False)
    outcome = _grade_thresholds(term, inputs, term.temperature.thresholds)
    grade, detail = outcome.grade, outcome.detail
    sustained = term.temperature.sustained
    if sustained is not None and grade == sustained.from_grade:
        grade, detail = _sustained(sustained, sustained_hours, detail)
    verdict = f"grade {grade}" if grade is not None else "not graded"
    return LabGrade(grade, f"{term.name} {inputs.value} °C: {detail} → {verdict}", catalogue.version)


def _sustained(rule: SustainedRule, hours: Number | None, detail: str) -> tuple[int, str]:
    """Apply the duration rule to a temperature in the rule's from_grade range."""
    limit = rule.longer_than_hours
    if hours is None:
        return rule.from_grade, f"{detail}, duration not given (grade {rule.grade} if > {limit} h)"
    duration = to_decimal(hours, name="sustained_hours")
    if duration > rule.longer_than_hours:
        return rule.grade, f"{detail} for {duration} h > {limit} h"
    return rule.from_grade, f"{detail} for {duration} h ≤ {limit} h"


PLAUSIBLE_TEMPERATURE_C = (Decimal(30), Decimal(45))
LONGEST_SUSTAINED_HOURS = Decimal(24 * 30)


def references_needed(term: CtcaeTerm) -> frozenset[str]:
    """The reference limits (lln, uln) a lab term's thresholds are drawn from: the caller must give them."""
    if term.lab is None:
        return frozenset()
    referenced = {threshold.reference for criterion in term.lab.criteria for threshold in criterion.thresholds}
    return frozenset(referenced & {"lln", "uln"})


def temperature_errors(temperature_c: Decimal, sustained_hours: Decimal | None) -> dict[str, str | None]:
    """Why a body temperature (°C) or the hours it lasted is not physiologically possible, per field."""
    low, high = PLAUSIBLE_TEMPERATURE_C
    temperature = None
    if not low <= temperature_c <= high:
        temperature = f"A body temperature of {_text(temperature_c)} °C is not possible: give {low}–{high} °C."
    hours = None
    if sustained_hours is not None and not 0 <= sustained_hours <= LONGEST_SUSTAINED_HOURS:
        hours = f"The hours above the fever threshold must be 0–{LONGEST_SUSTAINED_HOURS}, not {sustained_hours}."
    return {"temperature_c": temperature, "sustained_hours": hours}
