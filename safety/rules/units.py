"""Follow-up lab input: the unit of each CTCAE lab term, plausibility bounds, conversion to the grading unit.

The accepted units and their conversions are the screening document's (ctit_trial.lab_units): one table for
screening and follow-up. Values are graded in each analyte's first unit, the one CTCAE.md states.
"""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

from ctit_trial.lab_units import ACCEPTED_UNITS, convert, display_unit

# CTCAE lab term code → the screening document's analyte (whose units and conversions it shares).
TERM_ANALYTES = MappingProxyType(
    {
        "platelet_count_decreased": "platelets",
        "neutrophil_count_decreased": "anc",
        "anemia": "hemoglobin",
        "alt_increased": "alt",
        "ast_increased": "ast",
        "blood_bilirubin_increased": "total_bilirubin",
        "creatinine_increased": "creatinine",
        "inr_increased": "inr",
        "aptt_prolonged": "aptt",
    }
)

# Physiologically possible values in the grading unit: (lowest, highest, whether the lowest itself is possible).
# The ceilings are far above any survivable value; they catch typos and unit mix-ups, not clinical extremes.
PLAUSIBLE = MappingProxyType(
    {
        "platelets": (Decimal(0), Decimal(5000), True),
        "anc": (Decimal(0), Decimal(500), True),
        "hemoglobin": (Decimal(0), Decimal(300), False),
        "alt": (Decimal(0), Decimal(50000), True),
        "ast": (Decimal(0), Decimal(50000), True),
        "total_bilirubin": (Decimal(0), Decimal(2000), True),
        "creatinine": (Decimal(0), Decimal(5000), False),
        "inr": (Decimal(0), Decimal(30), False),
        "aptt": (Decimal(0), Decimal(600), False),
    }
)
CONVERTED_PLACES = Decimal("0.000001")
_LABELS = MappingProxyType({"value": "value", "lln": "LLN", "uln": "ULN", "baseline": "baseline"})


@dataclass(frozen=True)
class LabReading:
    """A lab result in the grading unit: value, reference range and baseline (None when not given)."""

    value: Decimal
    lln: Decimal | None
    uln: Decimal | None
    baseline: Decimal | None
    unit: str


def analyte_of(term_code: str) -> str:
    """The screening analyte of a CTCAE lab term (KeyError for a term without one)."""
    return TERM_ANALYTES[term_code]


def grading_unit(term_code: str) -> str:
    """The unit a term's value is graded in (the first accepted unit of its analyte)."""
    return ACCEPTED_UNITS[analyte_of(term_code)][0]


def _decimal(number: Fraction) -> Decimal:
    exact = (Decimal(number.numerator) / Decimal(number.denominator)).quantize(CONVERTED_PLACES).normalize()
    return exact.quantize(Decimal(1)) if exact.as_tuple().exponent > 0 else exact  # 4E+1 → 40


def to_grading_unit(term_code: str, amount: Decimal | None, unit: str) -> Decimal | None:
    """An amount given in one of the term's accepted units, in its grading unit (exact up to 6 decimals)."""
    if amount is None:
        return None
    analyte = analyte_of(term_code)
    return _decimal(convert(analyte, amount, unit, ACCEPTED_UNITS[analyte][0]))


def unit_error(term_code: str, unit: str | None) -> str | None:
    """Why the unit cannot be used for this term, or None."""
    units = ACCEPTED_UNITS[analyte_of(term_code)]
    allowed = ", ".join(units)
    if not unit:
        return f"Give the unit of the value: one of {allowed}."
    if unit not in units:
        return f"Unknown unit {unit!r} for this analyte; expected one of: {allowed}."
    return None


def _bounds_text(term_code: str, unit: str) -> tuple[str, str]:
    analyte = analyte_of(term_code)
    low, high, _ = PLAUSIBLE[analyte]
    shown = display_unit(unit)
    as_entered = (_decimal(convert(analyte, bound, ACCEPTED_UNITS[analyte][0], unit)) for bound in (low, high))
    low_text, high_text = (format(bound, "f") for bound in as_entered)
    return f"{low_text} {shown}", f"{high_text} {shown}"


def plausibility_error(term_code: str, field: str, entered: Decimal, converted: Decimal, unit: str) -> str | None:
    """Why an amount (as entered, and in the grading unit) is not physiologically possible, or None."""
    low, high, low_possible = PLAUSIBLE[analyte_of(term_code)]
    low_text, high_text = _bounds_text(term_code, unit)
    shown = f"{format(entered, 'f')} {display_unit(unit)}"
    if converted < low or (converted == low and not low_possible):
        relation = "at least" if low_possible else "above"
        return f"The {field} {shown} is not physiologically possible: it must be {relation} {low_text}."
    if converted > high:
        return f"The {field} {shown} is not physiologically possible: it must be at most {high_text}."
    return None


def reference_errors(
    lln: Decimal | None, uln: Decimal | None, *, needed: frozenset[str], term_name: str
) -> dict[str, str | None]:
    """The reference range's problems: each limit positive, LLN below ULN, and present where the term needs it."""
    errors: dict[str, str | None] = {}
    for name, label, amount in (("lln", "LLN", lln), ("uln", "ULN", uln)):
        if amount is None:
            errors[name] = f"{term_name} needs the {label} to grade this value." if name in needed else None
        else:
            errors[name] = f"The {label} must be greater than 0, not {format(amount, 'f')}." if amount <= 0 else None
    if not any(errors.values()) and lln is not None and uln is not None and lln >= uln:
        errors["lln"] = f"The LLN ({format(lln, 'f')}) must be below the ULN ({format(uln, 'f')})."
    return errors


class LabInputError(ValueError):
    """Lab input that cannot be graded: each field's message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


def lab_reading(
    term_code: str,
    *,
    value: Decimal,
    unit: str | None,
    lln: Decimal | None,
    uln: Decimal | None,
    baseline: Decimal | None,
    needed: frozenset[str],
    term_name: str,
) -> LabReading:
    """The result in the grading unit (value, range and baseline given in `unit`), or LabInputError naming fields."""
    error = unit_error(term_code, unit)
    if error:
        raise LabInputError({"unit": error})
    amounts = {"value": value, "lln": lln, "uln": uln, "baseline": baseline}
    converted = {name: to_grading_unit(term_code, amount, unit) for name, amount in amounts.items()}
    errors = reference_errors(lln, uln, needed=needed, term_name=term_name)
    for name, amount in amounts.items():
        if amount is not None and not errors.get(name):
            errors[name] = plausibility_error(term_code, _LABELS[name], amount, converted[name], unit)
    found = {name: message for name, message in errors.items() if message}
    if found:
        raise LabInputError(found)
    return LabReading(converted["value"], converted["lln"], converted["uln"], converted["baseline"], unit)
