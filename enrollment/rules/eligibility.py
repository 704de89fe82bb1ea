"""The eligibility engine: every criterion of PROTOCOL.md §3 evaluated over one screening document."""

import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from types import MappingProxyType
from typing import Literal

from enrollment.rules import criteria_history as history
from enrollment.rules import criteria_inclusion as inclusion
from enrollment.rules import criteria_labs as labs
from enrollment.rules.config import EligibilityLimits
from enrollment.rules.criteria_common import Context, CriterionResult
from enrollment.rules.document import ScreeningDocument

ENGINE_VERSION = "1.0.0"

Outcome = Literal["eligible", "ineligible", "incomplete"]

CRITERIA: Mapping[str, Callable[[Context], CriterionResult]] = MappingProxyType(
    {
        "IN1": inclusion.in1_age,
        "IN2": inclusion.in2_malignancy_and_platelets,
        "IN3": inclusion.in3_no_recent_transfusion,
        "IN4": inclusion.in4_ecog,
        "IN5": inclusion.in5_life_expectancy,
        "IN6": inclusion.in6_contraception_and_pregnancy_test,
        "EX1": history.yes_no_criterion("EX1"),
        "EX2": history.yes_no_criterion("EX2"),
        "EX3": history.yes_no_criterion("EX3"),
        "EX4": history.yes_no_criterion("EX4"),
        "EX5": history.ex5_thrombopoietic_drugs,
        "EX6": history.yes_no_criterion("EX6"),
        "EX7": history.yes_no_criterion("EX7"),
        "EX8": history.ex8_thromboembolism,
        "EX9": history.ex9_cardiac,
        "EX10": history.ex10_surgery,
        "EX11": history.ex11_anticoagulants,
        "EX12": labs.ex12_coagulation,
        "EX13": labs.ex13_liver_and_kidney,
        "EX14": labs.ex14_blood_count,
        "EX15": labs.ex15_serology,
        "EX16": history.yes_no_criterion("EX16"),
        "EX17": history.yes_no_criterion("EX17"),
        "EX18": history.yes_no_criterion("EX18"),
        "EX19": history.yes_no_criterion("EX19"),
        "EX20": history.ex20_pregnant_or_lactating,
        "EX21": history.ex21_investigator_judgment,
    }
)
CRITERION_CODES = tuple(CRITERIA)


@dataclass(frozen=True)
class EligibilityEvaluation:
    """The overall outcome and each criterion's result, in code order IN1..IN6, EX1..EX21."""

    outcome: Outcome
    criteria: Mapping[str, CriterionResult]

    def to_dict(self) -> dict:
        """The API shape: {"outcome": ..., "criteria": {"IN1": {"status": ..., "reason": ...}, ...}}."""
        criteria = {code: {"status": r.status, "reason": r.reason} for code, r in self.criteria.items()}
        return {"outcome": self.outcome, "criteria": criteria}


def evaluate_eligibility(
    doc: ScreeningDocument, limits: EligibilityLimits, *, site_tz: str | tzinfo
) -> EligibilityEvaluation:
    """Evaluate every criterion; site-local calendar days are taken in `site_tz` (an IANA name or tzinfo)."""
    tz = zoneinfo.ZoneInfo(site_tz) if isinstance(site_tz, str) else site_tz
    ctx = Context(doc=doc, limits=limits, tz=tz)
    results = {code: rule(ctx) for code, rule in CRITERIA.items()}
    return EligibilityEvaluation(outcome=overall_outcome(results.values()), criteria=MappingProxyType(results))


def overall_outcome(results: Iterable[CriterionResult]) -> Outcome:
    """Eligible if every criterion passes, ineligible if any fails, otherwise incomplete."""
    statuses = {result.status for result in results}
    if "fail" in statuses:
        return "ineligible"
    return "eligible" if statuses <= {"pass"} else "incomplete"
