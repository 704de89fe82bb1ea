"""Enrollment: the eligibility checks, the dose slot claim and the status change in one transaction."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from dosing import services as dosing_services
from dosing.models import DoseSlot
from enrollment import services as enrollment_services
from enrollment.models import Subject


@transaction.atomic
def subject_enroll(*, actor: AbstractBaseUser, subject: Subject) -> DoseSlot:
    """Enroll a signed-eligible subject in its windows on a slot at the open level; returns the slot (else 409)."""
    subject = enrollment_services.subject_enrollment_check(actor=actor, subject=subject)
    slot = dosing_services.slot_claim(actor=actor, subject=subject)
    enrollment_services.subject_enroll(actor=actor, subject=subject, dose_level_label=slot.dose_level.label)
    return slot
