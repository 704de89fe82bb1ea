"""The dosing day's acts that reach into safety follow-up: the infusion opens the visit schedule, records the D0
visit and grades fever from its vital signs; a correction of its times moves the schedule with D0; a reschedule or a
gate failure cancels the reminders that no longer apply."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ctit_trial.errors import Conflict
from dosing import selectors as dosing_selectors
from dosing import services as dosing_services
from dosing.models import DosingDayCorrection, Infusion, InfusionPlan, VitalSigns
from enrollment.models import ScreenFailure, Subject
from safety import selectors as safety_selectors
from safety import services as safety_services
from safety.models import Visit
from safety.rules.grading import grade_fever


@transaction.atomic
def infusion_record(*, actor: AbstractBaseUser, subject: Subject, **data) -> Infusion:
    """Record the infusion (dosing's checks), then the visit schedule from D0 and the D0 visit with its baseline."""
    infusion = dosing_services.infusion_record(actor=actor, subject=subject, **data)
    visits = safety_services.visit_schedule_create(actor=actor, infusion=infusion)
    assessment = dosing_selectors.dosing_day.assessment_of(infusion.slot.plan)
    d0_visit = next(visit for visit in visits if visit.definition.target_day == 0)
    safety_services.visit_record(
        actor=actor,
        visit=d0_visit,
        visit_date=infusion.subject.site.local_date(infusion.started_at),
        platelets=assessment.baseline_platelets,
        ae_review_done=False,
    )
    for vitals in infusion.vital_signs.order_by("measured_at"):
        _fever_from(actor, vitals)
    return infusion


def _fever_from(actor: AbstractBaseUser, vitals: VitalSigns) -> None:
    """Fever graded from the temperature of the infusion's vital signs, as for any recorded temperature."""
    safety_services.temperature_record(
        actor=actor,
        subject=vitals.infusion.subject,
        measured_at=vitals.measured_at,
        temperature_c=vitals.temperature_c,
        source=f"infusion vital signs ({vitals.phase})",
    )


@transaction.atomic
def infusion_times_correct(*, actor: AbstractBaseUser, subject: Subject, **data) -> DosingDayCorrection:
    """Correct the infusion's times (dosing's checks); a new D0 moves the planned visits and the D0 visit's date and
    recomputes the DLT flags. Refused while visits after D0 are recorded: their windows were D0's."""
    before = Infusion.objects.get(subject=subject)
    old_d0 = subject.site.local_date(before.started_at)
    correction = dosing_services.infusion_times_correct(actor=actor, subject=subject, **data)
    infusion = Infusion.objects.select_related("subject__site").get(pk=before.pk)
    new_d0 = infusion.subject.site.local_date(infusion.started_at)
    if new_d0 == old_d0:
        return correction
    visits = Visit.objects.filter(subject=subject).select_related("definition")
    recorded = [v.definition.code for v in visits if v.definition.target_day > 0 and v.status != Visit.Status.PLANNED]
    if recorded:
        raise Conflict(
            f"The corrected start moves D0 from {old_d0} to {new_d0}, but visits {', '.join(recorded)} are recorded "
            f"in windows counted from {old_d0}: D0 cannot move after the follow-up has begun.",
            errors={"started_at": [f"D0 would move from {old_d0} to {new_d0} after visits were recorded."]},
        )
    why = f"Infusion start corrected ({correction.reason}): D0 is {new_d0}"
    safety_services.visit_schedule_shift(actor=actor, infusion=infusion, reason=why)
    d0_visit = next((v for v in visits if v.definition.target_day == 0), None)
    if d0_visit is not None and d0_visit.status == Visit.Status.DONE:
        safety_services.visit_record(
            actor=actor,
            visit=d0_visit,
            visit_date=new_d0,
            platelets=d0_visit.platelets,
            ae_review_done=d0_visit.ae_review_done,
            reason=why,
        )
    return correction


@transaction.atomic
def vital_signs_correct(*, actor: AbstractBaseUser, subject: Subject, phase: str, **data) -> DosingDayCorrection:
    """Correct vital signs (dosing's checks). A temperature correction that changes the fever grade is refused:
    the fever episode graded from it is corrected as an AE, with its own reason."""
    old = VitalSigns.objects.filter(infusion__subject=subject, phase=phase).first()
    new_temperature = data.get("temperature_c")
    if old is not None and new_temperature is not None and new_temperature != old.temperature_c:
        catalogue = safety_selectors.catalogue()
        was = grade_fever(old.temperature_c, catalogue=catalogue)
        now = grade_fever(new_temperature, catalogue=catalogue)
        if was.grade != now.grade:
            message = (
                f"The corrected temperature changes the fever grade graded from it (G{was.grade or 0} → "
                f"G{now.grade or 0}): correct the fever adverse event with its reason, then the vital signs."
            )
            raise Conflict(message, errors={"temperature_c": [message]})
    return dosing_services.vital_signs_correct(actor=actor, subject=subject, phase=phase, **data)


@transaction.atomic
def infusion_reschedule(*, actor: AbstractBaseUser, subject: Subject, **data) -> InfusionPlan:
    """Move the planned infusion; the pending dosing-day reminders of the old plan are cancelled."""
    plan = dosing_services.infusion_reschedule(actor=actor, subject=subject, **data)
    safety_services.notifications_cancel_for_subject(subject=subject, reason=f"Infusion rescheduled: {data['reason']}")
    return plan


@transaction.atomic
def infusion_gate_fail(*, actor: AbstractBaseUser, subject: Subject, reason: str | None) -> ScreenFailure:
    """Screen failure at the dosing gate (plan cancelled, slot released); its pending reminders are cancelled."""
    failure = dosing_services.infusion_gate_fail(actor=actor, subject=subject, reason=reason)
    safety_services.notifications_cancel_for_subject(
        subject=subject, reason=f"Screen failure at the dosing gate: {failure.reason}"
    )
    return failure
