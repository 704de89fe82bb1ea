"""Every write of the dosing app (services/selectors style): import from here."""

from dosing.services.corrections import (
    assessment_correct,
    infusion_times_correct,
    reconfirmation_correct,
    vital_signs_correct,
)
from dosing.services.gate import assessment_record, reconfirmation_record
from dosing.services.infusion import draw_record, infusion_record
from dosing.services.levels import dose_level_open_first, dose_levels_apply_src, dose_levels_load
from dosing.services.plans import infusion_gate_fail, infusion_reschedule, infusion_schedule
from dosing.services.slots import slot_claim, slot_move, slot_release
from dosing.services.src import src_decision_record, src_decision_sign
from dosing.services.withdrawal import infusion_withdraw

__all__ = [
    "assessment_correct",
    "infusion_times_correct",
    "reconfirmation_correct",
    "vital_signs_correct",
    "assessment_record",
    "dose_level_open_first",
    "dose_levels_apply_src",
    "dose_levels_load",
    "draw_record",
    "infusion_gate_fail",
    "infusion_record",
    "infusion_reschedule",
    "infusion_schedule",
    "infusion_withdraw",
    "reconfirmation_record",
    "slot_claim",
    "slot_move",
    "slot_release",
    "src_decision_record",
    "src_decision_sign",
]
