"""Every write of the enrollment app (services/selectors style): import from here."""

from enrollment.services.common import subject_lock, subject_status_change
from enrollment.services.discontinuation import subject_discontinuation_check, subject_discontinue
from enrollment.services.eligibility import eligibility_evaluate, eligibility_sign
from enrollment.services.enrollment import (
    subject_enroll,
    subject_enrollment_check,
    subject_gate_failure_record,
    subject_screen_fail,
)
from enrollment.services.screening import screening_record, screening_update
from enrollment.services.subjects import consent_record, identity_save
from enrollment.services.trial import (
    PROTOCOL_SECTIONS,
    SITE_EDITABLE_FIELDS,
    criteria_load,
    membership_grant,
    membership_revoke,
    protocol_load,
    role_assign,
    roles_sync,
    site_create,
    site_update,
    staff_user_ensure,
    subject_register,
)

__all__ = [
    "PROTOCOL_SECTIONS",
    "SITE_EDITABLE_FIELDS",
    "consent_record",
    "criteria_load",
    "eligibility_evaluate",
    "eligibility_sign",
    "identity_save",
    "membership_grant",
    "membership_revoke",
    "protocol_load",
    "role_assign",
    "roles_sync",
    "screening_record",
    "screening_update",
    "site_create",
    "site_update",
    "staff_user_ensure",
    "subject_discontinuation_check",
    "subject_discontinue",
    "subject_enroll",
    "subject_enrollment_check",
    "subject_gate_failure_record",
    "subject_lock",
    "subject_register",
    "subject_screen_fail",
    "subject_status_change",
]
