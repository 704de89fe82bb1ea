"""The dose-escalation engines (PROTOCOL.md §4): pure functions of a dose path and typed options, no ORM, no clock."""

from dosing.rules.boin import next_boin_decision
from dosing.rules.config import ConfigError, boin_options, configured_design, escalation_options
from dosing.rules.decision import Action, Decision
from dosing.rules.path import DosePathError, parse_dose_path
from dosing.rules.simulate import simulate
from dosing.rules.three_plus_three import next_decision

__all__ = [
    "Action",
    "ConfigError",
    "Decision",
    "DosePathError",
    "boin_options",
    "configured_design",
    "escalation_options",
    "next_boin_decision",
    "next_decision",
    "parse_dose_path",
    "simulate",
]
