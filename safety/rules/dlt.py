"""DLT candidate flagging (PROTOCOL.md §6) over the facts of one adverse event; rules from seeds/dlt_rules.yaml."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ctit_trial.config import dlt_rules_seed
from safety.rules.catalogue import FLAG_NAMES, TermFlags, to_decimal

GRADES = range(1, 6)


class DltRulesError(ValueError):
    """The DLT rules seed is malformed."""


@dataclass(frozen=True)
class FlagRule:
    """An AE with this term flag (None = any AE) and grade ≥ min_grade is a candidate."""

    name: str
    min_grade: int
    flag: str | None = None


@dataclass(frozen=True)
class NeutropeniaRule:
    """Neutropenia of grade ≥ min_grade lasting strictly longer than longer_than_days."""

    min_grade: int
    longer_than_days: int


@dataclass(frozen=True)
class NonHematologicRule:
    """Any non-hematologic AE of grade ≥ min_grade, except short fevers and quickly resolving labs."""

    min_grade: int
    fever_resolved_within_hours: Decimal
    lab_exception_grade: int
    lab_resolved_within_days: int


@dataclass(frozen=True)
class DltRules:
    """The trial's DLT candidate rules."""

    related_levels: frozenset[str]
    flag_rules: tuple[FlagRule, ...]
    prolonged_neutropenia: NeutropeniaRule
    non_hematologic: NonHematologicRule


@dataclass(frozen=True)
class AdverseEventFacts:
    """What the DLT rules need to know about one AE (study days counted by the caller, site-local)."""

    grade: int
    related: bool
    onset_study_day: int
    flags: TermFlags = field(default_factory=TermFlags)
    resolved_within_hours: Decimal | int | None = None
    resolved_within_days: int | None = None
    resolved_without_sequelae: bool = False
    neutropenia_duration_days: int | None = None

    def __post_init__(self) -> None:
        if self.grade not in GRADES:
            raise ValueError(f"A CTCAE grade is 1–5, not {self.grade}.")


@dataclass(frozen=True)
class DltFlag:
    """The verdict: whether the AE is a DLT candidate, by which rule, and why."""

    is_candidate: bool
    rule: str | None
    reason: str


def dlt_rules_from_mapping(data: Mapping[str, Any]) -> DltRules:
    """Build typed DLT rules from the `dlt_rules` section of the seed."""
    flag_rules = tuple(
        FlagRule(name=raw["name"], min_grade=int(raw["min_grade"]), flag=raw.get("flag")) for raw in data["flag_rules"]
    )
    unknown = sorted({rule.flag for rule in flag_rules if rule.flag is not None} - FLAG_NAMES)
    if unknown:
        raise DltRulesError(f"Unknown term flags in flag_rules: {unknown}.")
    neutropenia, non_hematologic = data["prolonged_neutropenia"], data["non_hematologic"]
    return DltRules(
        related_levels=frozenset(data["related_levels"]),
        flag_rules=flag_rules,
        prolonged_neutropenia=NeutropeniaRule(int(neutropenia["min_grade"]), int(neutropenia["longer_than_days"])),
        non_hematologic=NonHematologicRule(
            min_grade=int(non_hematologic["min_grade"]),
            fever_resolved_within_hours=to_decimal(non_hematologic["fever_resolved_within_hours"]),
            lab_exception_grade=int(non_hematologic["lab_exception_grade"]),
            lab_resolved_within_days=int(non_hematologic["lab_resolved_within_days"]),
        ),
    )


def load_dlt_rules() -> DltRules:
    """The typed DLT rules of seeds/dlt_rules.yaml (validated by the typed loader)."""
    return dlt_rules_from_mapping(dlt_rules_seed().rules)


def is_related(relatedness: str, *, rules: DltRules) -> bool:
    """Whether a 5-point relatedness assessment counts as related (definitely, probably, possibly)."""
    return relatedness.strip().lower() in rules.related_levels


def _matching_flag_rule(ae: AdverseEventFacts, rules: DltRules) -> FlagRule | None:
    for rule in rules.flag_rules:
        has_flag = rule.flag is None or getattr(ae.flags, rule.flag)
        if has_flag and ae.grade >= rule.min_grade:
            return rule
    return None


def _is_prolonged_neutropenia(ae: AdverseEventFacts, rule: NeutropeniaRule) -> bool:
    days = ae.neutropenia_duration_days
    return ae.flags.is_neutropenia and ae.grade >= rule.min_grade and days is not None and days > rule.longer_than_days


def _non_hematologic_exception(ae: AdverseEventFacts, rule: NonHematologicRule) -> str | None:
    """Why a grade ≥ 3 non-hematologic AE is excepted, or None when it is not."""
    hours = ae.resolved_within_hours
    if ae.flags.is_fever and hours is not None and to_decimal(hours) <= rule.fever_resolved_within_hours:
        return f"fever resolved within {hours} h (≤ {rule.fever_resolved_within_hours} h)"
    days = ae.resolved_within_days
    quick = days is not None and days <= rule.lab_resolved_within_days
    if ae.flags.is_lab and ae.grade == rule.lab_exception_grade and quick and ae.resolved_without_sequelae:
        limit = rule.lab_resolved_within_days
        return f"grade {ae.grade} lab abnormality resolved within {days} d (≤ {limit} d) without sequelae"
    return None


def _candidate(rule: str, why: str, ae: AdverseEventFacts) -> DltFlag:
    return DltFlag(True, rule, f"{why}; related; onset D{ae.onset_study_day}")


def onset_in_window(study_day: int, *, window_days: int) -> bool:
    """Whether an onset study day lies in the DLT window D0…D<window_days> (both ends included)."""
    return 0 <= study_day <= window_days


def flag_dlt_candidate(ae: AdverseEventFacts, *, rules: DltRules, window_days: int) -> DltFlag:
    """Flag an AE as a DLT candidate (for SRC adjudication) when it is related, in D0…D<window>, and meets a rule."""
    if not ae.related:
        return DltFlag(False, None, "not related to the study product")
    if not onset_in_window(ae.onset_study_day, window_days=window_days):
        return DltFlag(False, None, f"onset D{ae.onset_study_day} is outside the DLT window D0…D{window_days}")
    flag_rule = _matching_flag_rule(ae, rules)
    if flag_rule is not None:
        why = f"{flag_rule.name.replace('_', ' ')} grade {ae.grade} (≥ {flag_rule.min_grade})"
        return _candidate(flag_rule.name, why, ae)
    neutropenia = rules.prolonged_neutropenia
    if _is_prolonged_neutropenia(ae, neutropenia):
        why = f"grade {ae.grade} neutropenia for {ae.neutropenia_duration_days} d > {neutropenia.longer_than_days} d"
        return _candidate("prolonged_neutropenia", why, ae)
    non_hematologic = rules.non_hematologic
    if ae.flags.category == "non_hematologic" and ae.grade >= non_hematologic.min_grade:
        exception = _non_hematologic_exception(ae, non_hematologic)
        if exception is not None:
            return DltFlag(False, None, f"excepted: {exception}")
        return _candidate("non_hematologic", f"grade {ae.grade} non-hematologic AE", ae)
    return DltFlag(False, None, f"grade {ae.grade} {ae.flags.category.replace('_', '-')} AE meets no DLT rule")
