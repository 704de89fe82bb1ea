"""The dosing interlock at every dosing-day step: the engine's live decision re-derived under the level's lock."""

from datetime import datetime

from ctit_trial.errors import Conflict
from dosing.models import DoseLevel, DoseSlot
from dosing.selectors.dosing_day import claimed_slot
from dosing.selectors.escalation import dosing_block
from enrollment.models import Subject


def dosing_interlock(subject: Subject, *, step: str, now: datetime) -> DoseSlot | None:
    """Lock the dose level of the subject's claimed slot and refuse the step (409) while the engine does not allow
    dosing the subject there; returns the slot (None without one: the caller says what is missing).

    Lock order (ADR 0013): the caller holds the subject's lock; the level is locked here, before any plan row.
    """
    slot = claimed_slot(subject)
    if slot is None:
        return None
    slot.dose_level = DoseLevel.objects.select_for_update().select_related("protocol").get(pk=slot.dose_level_id)
    problem = dosing_block(slot, now=now)
    if problem:
        raise Conflict(f"{step} refused for {subject}: {problem}", errors={"dose_level": [problem]})
    return slot
