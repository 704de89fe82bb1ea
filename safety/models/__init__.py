"""The safety app's models: the follow-up data (visits, AEs, DLT and SAE records) and the reminder delivery log."""

from safety.models.follow_up import (
    SERIOUSNESS_CRITERIA,
    VISIT_TRANSITIONS,
    AdverseEvent,
    CtcaeTerm,
    DltAdjudication,
    DltAssessment,
    SaeReport,
    Visit,
    VisitDefinition,
)
from safety.models.notifications import Notification
from safety.models.results import EpisodeAction, LabResult, TemperatureRecord

__all__ = [
    "SERIOUSNESS_CRITERIA",
    "VISIT_TRANSITIONS",
    "AdverseEvent",
    "CtcaeTerm",
    "DltAdjudication",
    "DltAssessment",
    "EpisodeAction",
    "LabResult",
    "Notification",
    "SaeReport",
    "TemperatureRecord",
    "Visit",
    "VisitDefinition",
]
