"""The screening document's lab units: the one conversion table shared with follow-up (ctit_trial.lab_units)."""

from ctit_trial.lab_units import ACCEPTED_UNITS, convert, display_unit

__all__ = ["ACCEPTED_UNITS", "convert", "display_unit"]
