"""Every write of the dosing app (services/selectors style): import from here."""

from dosing.services.levels import dose_level_open_first, dose_levels_apply_src, dose_levels_load
from dosing.services.slots import slot_claim, slot_release
from dosing.services.src import src_decision_record, src_decision_sign

__all__ = [
    "dose_level_open_first",
    "dose_levels_apply_src",
    "dose_levels_load",
    "slot_claim",
    "slot_release",
    "src_decision_record",
    "src_decision_sign",
]
