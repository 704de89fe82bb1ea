"""Every read of the safety app (services/selectors style): import from here.

`dlt_facts` and `SubjectDltFacts` are the interface the escalation engine reads (dosing.selectors).
"""

from safety.selectors.adverse_events import (
    SaeClock,
    SusarClock,
    adverse_events_visible_to,
    ae_get_visible,
    dlt_assessment_of,
    is_susar,
    is_treatment_emergent,
    onset_study_day,
    sae_clock,
    sae_report_content,
    sae_report_of,
    sae_report_valid,
    susar_clock,
    term_flags,
)
from safety.selectors.common import (
    SafetyConfig,
    catalogue,
    dlt_rules,
    infusion_of,
    safety_config,
    site_today,
    study_day_of,
    subject_d0,
)
from safety.selectors.dlt import (
    AdjudicationState,
    SubjectDltFacts,
    adjudication_state,
    counts_as_related,
    dlt_content,
    dlt_facts,
    dlt_flag,
    related_grade2_in_window,
)
from safety.selectors.messages import message_context
from safety.selectors.notifications import notifications_visible_to, stale_reason
from safety.selectors.platelets import TIME_POINTS, BodySize, body_size_of, platelet_summary, subject_platelets
from safety.selectors.reminders import recipient_directory, reminder_config, reminders_due
from safety.selectors.visits import (
    deviation_of,
    visit_get_visible,
    visits_of,
    visits_overdue,
    visits_overdue_visible_to,
    visits_visible_to,
)

__all__ = [
    "TIME_POINTS",
    "AdjudicationState",
    "BodySize",
    "body_size_of",
    "SaeClock",
    "SafetyConfig",
    "SubjectDltFacts",
    "SusarClock",
    "adjudication_state",
    "adverse_events_visible_to",
    "ae_get_visible",
    "catalogue",
    "counts_as_related",
    "deviation_of",
    "dlt_assessment_of",
    "dlt_content",
    "dlt_facts",
    "dlt_flag",
    "dlt_rules",
    "infusion_of",
    "is_susar",
    "is_treatment_emergent",
    "message_context",
    "notifications_visible_to",
    "onset_study_day",
    "platelet_summary",
    "recipient_directory",
    "related_grade2_in_window",
    "reminder_config",
    "reminders_due",
    "sae_clock",
    "sae_report_content",
    "sae_report_of",
    "sae_report_valid",
    "safety_config",
    "site_today",
    "stale_reason",
    "study_day_of",
    "subject_d0",
    "subject_platelets",
    "susar_clock",
    "term_flags",
    "visit_get_visible",
    "visits_of",
    "visits_overdue",
    "visits_overdue_visible_to",
    "visits_visible_to",
]
