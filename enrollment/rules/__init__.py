"""Pure eligibility rules: the screening document, the limits and the engine (no ORM, no clock)."""

from enrollment.rules.config import EligibilityLimits
from enrollment.rules.criteria_common import CriterionResult
from enrollment.rules.document import DocumentError, ScreeningDocument, parse_screening_document
from enrollment.rules.eligibility import (
    CRITERION_CODES,
    ENGINE_VERSION,
    EligibilityEvaluation,
    evaluate_eligibility,
)

__all__ = [
    "CRITERION_CODES",
    "ENGINE_VERSION",
    "CriterionResult",
    "DocumentError",
    "EligibilityEvaluation",
    "EligibilityLimits",
    "ScreeningDocument",
    "evaluate_eligibility",
    "parse_screening_document",
]
