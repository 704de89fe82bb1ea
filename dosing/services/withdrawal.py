"""A subject who leaves the trial before the infusion: the plan is called off and the dose slot given back."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ctit_trial.audit import require_reason, save_audited
from ctit_trial.errors import Conflict
from dosing import selectors
from dosing.models import DoseSlot, Infusion, InfusionPlan
from dosing.services.slots import slot_release
from enrollment.models import Subject
from enrollment.services import subject_lock


@transaction.atomic
def infusion_withdraw(*, actor: AbstractBaseUser, subject: Subject, reason: str | None) -> DoseSlot | None:
    """Cancel the live plan of a subject who left before dosing and release its claimed slot (returned, if any)."""
    reason = require_reason(reason)
    subject = subject_lock(actor=actor, subject=subject)
    if Infusion.objects.filter(subject=subject).exists():
        raise Conflict(f"{subject} has been dosed: its slot stays taken and the escalation path reads the withdrawal.")
    why = f"Subject left before the infusion: {reason}"
    plan = selectors.plan_live_for_update(subject)
    if plan is not None:
        plan.status = InfusionPlan.Status.CANCELLED
        save_audited(plan, actor=actor, reason=why)
    slot = plan.slot if plan is not None else selectors.dosing_day.claimed_slot(subject)
    return None if slot is None else slot_release(actor=actor, slot=slot, reason=why)
