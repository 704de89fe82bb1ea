"""Reads of the dosing app (services/selectors style): import from here."""

from dosing.selectors.dosing_day import (
    DosingDayState,
    dosing_day_state,
    dosing_today,
    gate_limits,
    plan_live,
    plan_live_for_update,
    pre_infusion_checklist,
    spacing_others,
)
from dosing.selectors.escalation import (
    Recommendation,
    design_options,
    dosed_subjects,
    earliest_dosing_at,
    engine_configuration,
    engine_decision,
    escalation_status,
    open_level,
    open_level_for_update,
    pending_slot_count,
    recommendation,
)

__all__ = [
    "DosingDayState",
    "Recommendation",
    "design_options",
    "dosed_subjects",
    "dosing_day_state",
    "dosing_today",
    "earliest_dosing_at",
    "engine_configuration",
    "engine_decision",
    "escalation_status",
    "gate_limits",
    "open_level",
    "open_level_for_update",
    "pending_slot_count",
    "plan_live",
    "plan_live_for_update",
    "pre_infusion_checklist",
    "recommendation",
    "spacing_others",
]
