"""Reads of the dosing app."""

from typing import Any

from dosing.models import DoseLevel
from enrollment.models import Protocol


def engine_configuration(protocol: Protocol) -> dict[str, Any]:
    """The protocol's configuration as the escalation engine reads it, dose levels included."""
    levels = DoseLevel.objects.filter(protocol=protocol).order_by("level")
    return {
        **protocol.configuration,
        "dose_levels": [{"level": level.level, "viable_cells": level.viable_cells} for level in levels],
    }
