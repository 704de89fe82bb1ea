"""The subject's journey: the acts that cross the apps, each one transaction over their services (ADR 0013).

The apps are layered: safety reads dosing, dosing reads enrollment, never the other way round. An act that must
write in more than one app (enrolling claims a dose slot; the infusion opens the visit schedule; a reschedule
cancels the reminders that no longer apply; a subject leaving the trial closes its slot, visits and reminders) is
composed here, above all three, and the API and the admin call it.
"""

from ctit_trial.journey.dosing_day import (
    infusion_gate_fail,
    infusion_record,
    infusion_reschedule,
    infusion_times_correct,
    vital_signs_correct,
)
from ctit_trial.journey.enrollment import subject_enroll
from ctit_trial.journey.lifecycle import subject_discontinue

__all__ = [
    "infusion_gate_fail",
    "infusion_record",
    "infusion_reschedule",
    "infusion_times_correct",
    "subject_discontinue",
    "subject_enroll",
    "vital_signs_correct",
]
