"""Slot claims at the open dose level, under that level's row lock, and their release."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import require_reason, save_audited
from ctit_trial.errors import Conflict
from dosing import selectors
from dosing.models import DoseLevel, DoseSlot, Infusion
from dosing.rules.decision import DOSING_ACTIONS, Decision
from enrollment.models import Subject
from enrollment.selectors import protocol_current


def _refusal(decision: Decision, level: DoseLevel, pending: int) -> str | None:
    """Why no more subjects may be enrolled at the open level now; None when a slot is free."""
    if decision.action not in DOSING_ACTIONS:
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
    decision = selectors.recommendation(protocol, now=now).decision
    refusal = _refusal(decision, level, pending)
    if refusal is None and pending and not Infusion.objects.filter(dose_level=level).exists():
        refusal = (
            f"Level {level.level} is in sentinel dosing: the first subject there must be dosed and observed "
            f"{protocol.configuration['scheduling']['sentinel_days']} days before the next one."
        )
    if refusal:
        raise Conflict(refusal)
    # The database refuses claimed-or-dosed slots beyond the ceiling (dosing/migrations/0007); the engine's
    # "how many more" already counts the pending claims, so the ceiling is the dosed slots plus that.
    level.slot_ceiling = DoseSlot.objects.filter(dose_level=level, status=DoseSlot.Status.DOSED).count() + (
        decision.subjects
    )
    save_audited(level, actor=actor, reason=f"Slot ceiling {level.slot_ceiling} at {level.label} on a claim")
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
