"""Writes of the dosing app: dose levels, slot claims under the dose level's lock, opening levels."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import require_reason, save_audited, upsert_audited
from ctit_trial.errors import Conflict
from dosing import selectors
from dosing.models import DoseLevel, DoseSlot, Infusion
from dosing.rules.decision import Action, Decision
from enrollment.models import Protocol, Subject
from enrollment.selectors import protocol_current


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


CLAIMING_ACTIONS = {Action.ENROLL, Action.ESCALATE}


def _refusal(decision: Decision, level: DoseLevel, pending: int) -> str | None:
    """Why no more subjects may be enrolled at the open level now; None when a slot is free."""
    if decision.action not in CLAIMING_ACTIONS:
        return f"The escalation engine does not allow enrollment now ({decision.action}): {decision.reason}."
    if decision.dose_level != level.level:
        return (
            f"The engine recommends dosing level {decision.dose_level} ({decision.reason}), but level {level.level} "
            f"is open: a signed SRC decision must change the open level first."
        )
    if pending >= decision.subjects:
        return (
            f"Level {level.level} has no free slot: the engine allows {decision.subjects} more subject(s) and "
            f"{pending} already hold a slot."
        )
    return None


@transaction.atomic
def slot_claim(*, actor: AbstractBaseUser, subject: Subject) -> DoseSlot:
    """Give an enrolling subject a slot at the open dose level, or refuse (Conflict) saying why."""
    protocol = protocol_current()
    level = selectors.open_level_for_update(protocol)  # serialises claims: counts below are taken under the lock
    if level is None:
        raise Conflict("No dose level is open for enrollment.")
    if DoseSlot.objects.filter(subject=subject).exclude(status=DoseSlot.Status.RELEASED).exists():
        raise Conflict(f"{subject} already holds a dose slot.")
    now = timezone.now()
    pending = selectors.pending_slot_count(level)
    refusal = _refusal(selectors.recommendation(protocol, now=now).decision, level, pending)
    if refusal is None and pending and not Infusion.objects.filter(dose_level=level).exists():
        refusal = (
            f"Level {level.level} is in sentinel dosing: the first subject there must be dosed and observed "
            f"{protocol.configuration['scheduling']['sentinel_days']} days before the next one."
        )
    if refusal:
        raise Conflict(refusal)
    slot = DoseSlot(dose_level=level, subject=subject, claimed_at=now)
    save_audited(slot, actor=actor, reason=f"Slot claimed at {level.label} on enrollment")
    return slot


@transaction.atomic
def slot_release(*, actor: AbstractBaseUser, slot: DoseSlot, reason: str | None) -> DoseSlot:
    """Give a claimed slot back (e.g. a D−1 screen failure) so the next subject can take it."""
    reason = require_reason(reason)
    slot = DoseSlot.objects.select_for_update().get(pk=slot.pk)
    if slot.status != DoseSlot.Status.CLAIMED:
        raise Conflict(f"Only a claimed slot can be released; this one is {slot.get_status_display().lower()}.")
    slot.status, slot.released_at, slot.release_reason = DoseSlot.Status.RELEASED, timezone.now(), reason
    save_audited(slot, actor=actor, reason=reason)
    return slot


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
