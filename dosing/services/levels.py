"""Dose levels: loading them from the protocol configuration, opening level 1, applying SRC decisions."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ctit_trial.audit import require_reason, save_audited, upsert_each
from ctit_trial.config.protocol import DoseLevelConfig
from ctit_trial.errors import Conflict
from dosing.models import DoseLevel
from enrollment.models import Protocol
from enrollment.selectors import protocol_current


def dose_level_rows(protocol: Protocol, levels: tuple[DoseLevelConfig, ...]) -> list[tuple[dict, dict]]:
    """(lookup, values) of each DoseLevel row the seed sets (the status is the trial's, not the seed's)."""
    return [
        (
            {"protocol": protocol, "level": item.level},
            {"label": item.label, "viable_cells": item.viable_cells, "design_role": item.design_role},
        )
        for item in levels
    ]


@transaction.atomic
def dose_levels_load(*, actor: AbstractBaseUser, protocol: Protocol, levels: tuple[DoseLevelConfig, ...]) -> int:
    """Create or update the protocol's dose levels (their status is left alone); returns rows changed."""
    rows = dose_level_rows(protocol, levels)
    return upsert_each(DoseLevel, rows, actor=actor, reason="Loaded from seeds/protocol.yaml")


@transaction.atomic
def dose_level_open_first(*, actor: AbstractBaseUser, reason: str | None) -> DoseLevel:
    """Open level 1 at the start of the trial; every later level change needs a signed SRC decision."""
    reason = require_reason(reason)
    levels = list(DoseLevel.objects.select_for_update().filter(protocol=protocol_current()).order_by("pk"))
    if not levels:
        raise Conflict("The dose levels are not loaded: run `python manage.py seed`.")
    if any(level.status != DoseLevel.Status.NOT_OPEN for level in levels):
        raise Conflict("Dose escalation has already started: only a signed SRC decision can open a level.")
    first = min(levels, key=lambda level: level.level)
    first.status = DoseLevel.Status.OPEN
    save_audited(first, actor=actor, reason=reason)
    return first


@transaction.atomic
def dose_levels_apply_src(*, actor: AbstractBaseUser, protocol: Protocol, target: int | None, reason: str) -> None:
    """Make `target` the one open level (None closes all: MTD, MAD or stop), locking the levels in pk order.

    The open level is closed before the target opens (a de-escalation reopens a lower level): one open at a time.
    """
    levels = list(DoseLevel.objects.select_for_update().filter(protocol=protocol).order_by("pk"))
    closing = [level for level in levels if level.status == DoseLevel.Status.OPEN and level.level != target]
    opening = [level for level in levels if level.level == target and level.status != DoseLevel.Status.OPEN]
    for level in closing + opening:
        level.status = DoseLevel.Status.CLOSED if level in closing else DoseLevel.Status.OPEN
        save_audited(level, actor=actor, reason=reason)
