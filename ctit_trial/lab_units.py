"""Accepted lab units (screening and follow-up: one table) and exact conversions between them; pure, no ORM."""

from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

# Appendix A: each analyte's accepted units; the first is the unit the rules compare in.
ACCEPTED_UNITS = MappingProxyType(
    {
        "platelets": ("10^9/L",),
        "anc": ("10^9/L",),
        "hemoglobin": ("g/L", "g/dL"),
        "aptt": ("s",),
        "inr": ("ratio",),
        "total_bilirubin": ("umol/L", "mg/dL"),
        "alt": ("U/L",),
        "ast": ("U/L",),
        "creatinine": ("umol/L", "mg/dL"),
    }
)

# How many of the first unit make one of the second (exact decimal constants, no float).
_FACTORS = MappingProxyType(
    {
        ("hemoglobin", "g/dL", "g/L"): Fraction(10),
        ("creatinine", "mg/dL", "umol/L"): Fraction(Decimal("88.4")),
        ("total_bilirubin", "mg/dL", "umol/L"): Fraction(Decimal("17.1")),
    }
)

_DISPLAY = MappingProxyType({"10^9/L": "×10⁹/L", "umol/L": "µmol/L"})


def convert(analyte: str, value: Decimal | Fraction, from_unit: str, to_unit: str) -> Fraction:
    """Convert a lab value between two accepted units of one analyte, exactly (as a Fraction)."""
    if from_unit == to_unit:
        return Fraction(value)
    if (analyte, from_unit, to_unit) in _FACTORS:
        return Fraction(value) * _FACTORS[analyte, from_unit, to_unit]
    if (analyte, to_unit, from_unit) in _FACTORS:
        return Fraction(value) / _FACTORS[analyte, to_unit, from_unit]
    raise ValueError(f"No conversion for {analyte} from {from_unit!r} to {to_unit!r}.")


def display_unit(unit: str) -> str:
    """The unit as printed in a reason (×10⁹/L rather than 10^9/L)."""
    return _DISPLAY.get(unit, unit)
