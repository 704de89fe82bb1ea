"""The enrollment app's models: the trial and its sites, subjects, consent, screening and eligibility."""

from enrollment.models.eligibility import CriterionVerdict, EligibilityEvaluation, EligibilitySignature
from enrollment.models.screening import HISTORY_EVENTS, Screening, ScreeningLab, ScreeningSerology, TestResult
from enrollment.models.subjects import (
    SUBJECT_TRANSITIONS,
    Consent,
    Discontinuation,
    ScreenFailure,
    Subject,
    SubjectIdentity,
)
from enrollment.models.trial import Criterion, Protocol, Site, SiteMembership, validate_time_zone

__all__ = [
    "HISTORY_EVENTS",
    "SUBJECT_TRANSITIONS",
    "Consent",
    "Criterion",
    "CriterionVerdict",
    "Discontinuation",
    "EligibilityEvaluation",
    "EligibilitySignature",
    "Protocol",
    "ScreenFailure",
    "Screening",
    "ScreeningLab",
    "ScreeningSerology",
    "Site",
    "SiteMembership",
    "Subject",
    "SubjectIdentity",
    "TestResult",
    "validate_time_zone",
]
