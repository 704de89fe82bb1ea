"""Writes of the dosing app: loading the dose levels (cohorts, slots and infusions come later)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ctit_trial.audit import upsert_audited
from dosing.models import DoseLevel
from enrollment.models import Protocol


@transaction.atomic
def dose_levels_load(*, actor: AbstractBaseUser, protocol: Protocol, levels: list[dict]) -> int:
    """Create or update the protocol's dose levels (their status is left alone); returns rows changed."""
    changed = 0
    for item in levels:
        values = {"label": item["label"], "viable_cells": int(item["viable_cells"]), "design_role": item["design_role"]}
        _, did_change = upsert_audited(
            DoseLevel,
            lookup={"protocol": protocol, "level": item["level"]},
            values=values,
            actor=actor,
            reason="Loaded from seeds/protocol.yaml",
        )
        changed += did_change
    return changed
