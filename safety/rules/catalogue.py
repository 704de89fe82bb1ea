"""Typed loading of the CTCAE catalogue seed (seeds/ctcae_v5.yaml) into frozen dataclasses."""

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from ctit_trial.config import ctcae_seed
from ctit_trial.config.reference import CATEGORIES, CONDITIONS, DIRECTIONS, OPERATORS, REFERENCES


class CatalogueError(ValueError):
    """The catalogue seed is malformed."""


class UnknownTerm(LookupError):
    """No catalogue term has this code or MedDRA code."""


def to_decimal(value: Decimal | int | float | str, *, name: str = "value") -> Decimal:
    """An exact Decimal of a number (floats via their shortest repr, so 39.1 stays 39.1)."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise TypeError(f"{name} must be a number, not {type(value).__name__}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value}.")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation as error:
        raise ValueError(f"{name} must be a number, not {value!r}.") from error
    if not number.is_finite():
        raise ValueError(f"{name} must be a finite number, not {value}.")
    return number


@dataclass(frozen=True)
class Threshold:
    """One grade boundary: value `op` amount (absolute) or value `op` amount × reference."""

    grade: int
    op: str
    amount: Decimal
    reference: str | None = None


@dataclass(frozen=True)
class Criterion:
    """Thresholds in ascending grade that apply when the condition holds."""

    when: str
    thresholds: tuple[Threshold, ...]


@dataclass(frozen=True)
class LabGrading:
    """How a lab term is graded from a value: direction, unit and criteria (worst grade wins)."""

    direction: str
    unit: str
    criteria: tuple[Criterion, ...]


@dataclass(frozen=True)
class SustainedRule:
    """Above the from_grade threshold for longer than longer_than_hours → grade."""

    from_grade: int
    grade: int
    longer_than_hours: Decimal


@dataclass(frozen=True)
class TemperatureGrading:
    """Fever grading from a body temperature, with the duration rule for the top value grade."""

    unit: str
    thresholds: tuple[Threshold, ...]
    sustained: SustainedRule | None


@dataclass(frozen=True)
class TermFlags:
    """The properties of a term that the DLT rules read."""

    category: str = "non_hematologic"
    is_lab: bool = False
    is_infusion_reaction: bool = False
    is_allergic: bool = False
    is_anaphylaxis: bool = False
    is_thromboembolic: bool = False
    is_crs: bool = False
    is_gvhd: bool = False
    is_fever: bool = False
    is_neutropenia: bool = False
    is_hemorrhage: bool = False


FLAG_NAMES = frozenset(f.name for f in fields(TermFlags) if f.name.startswith("is_") and f.name != "is_lab")


@dataclass(frozen=True)
class CtcaeTerm:
    """A CTCAE term: code, MedDRA code, SOC, flags, grade definitions and optional value grading."""

    code: str
    name: str
    meddra_code: str
    soc: str
    flags: TermFlags
    grade_definitions: tuple[tuple[int, str], ...]
    lab: LabGrading | None = None
    temperature: TemperatureGrading | None = None

    @property
    def grades(self) -> tuple[int, ...]:
        """The grades this term defines."""
        return tuple(grade for grade, _ in self.grade_definitions)

    def definition(self, grade: int) -> str:
        """The CTCAE text of one grade of this term."""
        for defined, text in self.grade_definitions:
            if defined == grade:
                return text
        raise UnknownTerm(f"{self.name} has no grade {grade} in CTCAE.")


@dataclass(frozen=True)
class CtcaeCatalogue:
    """The CTCAE terms of this product, looked up by code or MedDRA code."""

    version: str
    terms: tuple[CtcaeTerm, ...]

    def term(self, code: str | int) -> CtcaeTerm:
        """The term with this code (e.g. "platelet_count_decreased") or MedDRA code (e.g. 10035528)."""
        wanted = str(code)
        for term in self.terms:
            if wanted in (term.code, term.meddra_code):
                return term
        raise UnknownTerm(f"No CTCAE v{self.version} term has the code {wanted!r}.")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise CatalogueError(message)


def _threshold(raw: Mapping[str, Any], where: str) -> Threshold:
    _require(raw.get("op") in OPERATORS, f"{where}: op must be one of {sorted(OPERATORS)}.")
    reference = raw.get("of")
    if reference is None:
        _require("value" in raw and "factor" not in raw, f"{where}: an absolute threshold needs `value` only.")
        return Threshold(grade=int(raw["grade"]), op=raw["op"], amount=to_decimal(raw["value"], name=where))
    _require(reference in REFERENCES, f"{where}: `of` must be one of {sorted(REFERENCES)}.")
    _require("factor" in raw and "value" not in raw, f"{where}: a relative threshold needs `factor` only.")
    amount = to_decimal(raw["factor"], name=where)
    return Threshold(grade=int(raw["grade"]), op=raw["op"], amount=amount, reference=reference)


def _thresholds(raw: list[Mapping[str, Any]], where: str) -> tuple[Threshold, ...]:
    thresholds = tuple(_threshold(item, f"{where}[{index}]") for index, item in enumerate(raw))
    grades = [threshold.grade for threshold in thresholds]
    _require(bool(grades) and grades == sorted(set(grades)), f"{where}: grades must ascend, got {grades}.")
    return thresholds


def _lab(raw: Mapping[str, Any], where: str) -> LabGrading:
    _require(raw.get("direction") in DIRECTIONS, f"{where}: direction must be low or high.")
    criteria = []
    for index, item in enumerate(raw["criteria"]):
        _require(item.get("when") in CONDITIONS, f"{where}.criteria[{index}]: unknown condition {item.get('when')!r}.")
        criteria.append(Criterion(item["when"], _thresholds(item["thresholds"], f"{where}.criteria[{index}]")))
    return LabGrading(direction=raw["direction"], unit=str(raw.get("unit", "")), criteria=tuple(criteria))


def _temperature(raw: Mapping[str, Any], where: str) -> TemperatureGrading:
    sustained = raw.get("sustained")
    rule = None
    if sustained is not None:
        hours = to_decimal(sustained["longer_than_hours"], name=f"{where}.sustained")
        rule = SustainedRule(int(sustained["from_grade"]), int(sustained["grade"]), hours)
    thresholds = _thresholds(raw["thresholds"], f"{where}.thresholds")
    return TemperatureGrading(unit=str(raw.get("unit", "")), thresholds=thresholds, sustained=rule)


def _flags(raw: Mapping[str, Any], where: str) -> TermFlags:
    _require(raw.get("category") in CATEGORIES, f"{where}: category must be one of {sorted(CATEGORIES)}.")
    names = list(raw.get("flags") or [])
    unknown = sorted(set(names) - FLAG_NAMES)
    _require(not unknown, f"{where}: unknown flags {unknown}.")
    return TermFlags(category=raw["category"], is_lab="lab" in raw, **dict.fromkeys(names, True))


def _term(code: str, raw: Mapping[str, Any]) -> CtcaeTerm:
    where = f"terms.{code}"
    _require(str(raw.get("meddra_code", "")).isdigit(), f"{where}: meddra_code must be digits.")
    definitions = tuple(sorted((int(grade), str(text)) for grade, text in raw["grades"].items()))
    return CtcaeTerm(
        code=code,
        name=raw["name"],
        meddra_code=str(raw["meddra_code"]),
        soc=raw["soc"],
        flags=_flags(raw, where),
        grade_definitions=definitions,
        lab=_lab(raw["lab"], f"{where}.lab") if "lab" in raw else None,
        temperature=_temperature(raw["temperature"], f"{where}.temperature") if "temperature" in raw else None,
    )


def catalogue_from_mapping(data: Mapping[str, Any]) -> CtcaeCatalogue:
    """Build the typed catalogue from the parsed seed mapping (raises CatalogueError when malformed)."""
    _require(isinstance(data.get("terms"), Mapping), "The catalogue needs a `terms` mapping.")
    terms = tuple(_term(code, raw) for code, raw in data["terms"].items())
    meddra_codes = [term.meddra_code for term in terms]
    _require(len(set(meddra_codes)) == len(meddra_codes), "Two terms share a MedDRA code.")
    return CtcaeCatalogue(version=str(data["ctcae_version"]), terms=terms)


def load_catalogue() -> CtcaeCatalogue:
    """The typed catalogue of seeds/ctcae_v5.yaml (validated by the typed loader)."""
    seed = ctcae_seed()
    return catalogue_from_mapping({"ctcae_version": seed.ctcae_version, "terms": seed.terms})
