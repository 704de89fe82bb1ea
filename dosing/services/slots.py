"""Slot claims at the open dose level, under that level's row lock, and their release."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import require_reason, save_audited
from ctit_trial.errors import Conflict
from dosing import selectors
from dosing.models import DoseLevel, DoseSlot, Infusion, InfusionPlan
from dosing.rules.decision import DOSING_ACTIONS, Decision
from enrollment.models import Subject
from enrollment.selectors import protocol_current
from enrollment.services import subject_lock


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
    return _claim(actor, subject, level, reason=f"Slot claimed at {level.label} on enrollment")


def _claim(actor: AbstractBaseUser, subject: Subject, level: DoseLevel, *, reason: str) -> DoseSlot:
    """A new claimed slot at the open `level` (its row lock held), or Conflict saying why the engine refuses."""
    now = timezone.now()
    protocol = level.protocol
    pending = selectors.pending_slot_count(level)
    decision = selectors.recommendation(protocol, now=now).decision
    refusal = _refusal(decision, level, pending)
    if refusal is None and pending and not Infusion.objects.filter(dose_level=level).exists():
        refusal = (
            f"Level {level.level} is in sentinel dosing: the first subject there must be dosed and observed "
            f"{protocol.config.scheduling.sentinel_days} days before the next one."
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
    save_audited(slot, actor=actor, reason=reason)
    return slot


@transaction.atomic
def slot_move(*, actor: AbstractBaseUser, subject: Subject, reason: str | None) -> DoseSlot:
    """Move the claimed slot of an enrolled, undosed subject from a level that is no longer open to the open one.

    The engine's checks are those of a new claim (free slot, sentinel), under the open level's lock; the old slot
    is released and its plan cancelled with the reason, so the infusion is scheduled again at the new level.
    """
    reason = require_reason(reason)
    subject = subject_lock(actor=actor, subject=subject)
    slot = selectors.dosing_day.claimed_slot(subject)
    if subject.status != Subject.Status.ENROLLED or slot is None:
        raise Conflict(f"{subject} holds no claimed dose slot: there is nothing to move.")
    level = selectors.open_level_for_update(protocol_current())
    if level is None:
        raise Conflict("No dose level is open: a signed SRC decision must open one before the slot can move.")
    if slot.dose_level_id == level.pk:
        raise Conflict(f"{subject}'s slot is already at the open level {level.level}: there is nothing to move.")
    why = f"Slot moved from {slot.dose_level.label} to {level.label}: {reason}"
    plan = selectors.plan_live_for_update(subject)
    if plan is not None:
        plan.status = InfusionPlan.Status.CANCELLED
        save_audited(plan, actor=actor, reason=f"{why} (schedule the infusion again at {level.label})")
    slot_release(actor=actor, slot=slot, reason=why)
    return _claim(actor, subject, level, reason=why)  # refused (and all of it rolled back) as a new claim would be


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
