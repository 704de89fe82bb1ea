"""Every write of the safety app (services/selectors style): import from here."""

from safety.services.adverse_events import AE_FIELDS, ae_errors, ae_record, ae_update
from safety.services.delivery import notification_deliver
from safety.services.dlt import dlt_adjudicate, dlt_flag_store, dlt_flags_refresh
from safety.services.labs import LabResultGrade, lab_result_grade
from safety.services.notifications import (
    clock,
    notification_resend,
    notifications_cancel_for_subject,
    notifications_cancel_stale,
    notifications_dispatch,
    notifications_sweep,
)
from safety.services.reference import ctcae_terms_load, visit_definitions_load
from safety.services.sae import sae_report_record
from safety.services.temperatures import temperature_record
from safety.services.visits import (
    subject_close_out,
    visit_errors,
    visit_mark_missed,
    visit_record,
    visit_schedule_create,
    visit_schedule_shift,
    visits_close_for_discontinuation,
)

__all__ = [
    "subject_close_out",
    "temperature_record",
    "AE_FIELDS",
    "LabResultGrade",
    "ae_errors",
    "ae_record",
    "clock",
    "ae_update",
    "ctcae_terms_load",
    "dlt_adjudicate",
    "dlt_flag_store",
    "dlt_flags_refresh",
    "lab_result_grade",
    "notification_deliver",
    "notification_resend",
    "notifications_cancel_for_subject",
    "notifications_cancel_stale",
    "notifications_dispatch",
    "notifications_sweep",
    "sae_report_record",
    "visit_definitions_load",
    "visit_errors",
    "visit_mark_missed",
    "visit_record",
    "visit_schedule_create",
    "visit_schedule_shift",
    "visits_close_for_discontinuation",
]
