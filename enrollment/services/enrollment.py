"""Enrollment of a signed-eligible subject and screen failures (the dose slot is claimed by the journey)."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import require_reason, save_audited
from ctit_trial.errors import Conflict
from enrollment.models import Criterion, CriterionVerdict, EligibilityEvaluation, ScreenFailure, Screening, Subject
from enrollment.rules.window import enrollment_day_problem, screening_window_problem
from enrollment.selectors import evaluation_current, protocol_current, screening_current, signature_status
from enrollment.services.common import check_transition, subject_lock, subject_status_change

Status = Subject.Status


@transaction.atomic
def subject_enrollment_check(*, actor: AbstractBaseUser, subject: Subject) -> Subject:
    """Lock a subject and refuse (409) unless it may be enrolled now: signed eligible, inside its windows.

    Enrollment itself also claims a dose slot, so it is the journey's act (`ctit_trial.journey.subject_enroll`): this
    check, the slot claim, then `subject_enroll`, in one transaction.
    """
    subject = subject_lock(actor=actor, subject=subject)
    check_transition(subject, Status.ENROLLED)
    _check_enrollable(subject, screening_current(subject))
    return subject


@transaction.atomic
def subject_enroll(*, actor: AbstractBaseUser, subject: Subject, dose_level_label: str) -> Subject:
    """Mark a subject enrolled once its dose slot is claimed at `dose_level_label` (checks again under the lock)."""
    subject = subject_enrollment_check(actor=actor, subject=subject)
    screening = screening_current(subject)
    return subject_status_change(
        actor=actor,
        subject=subject,
        to=Status.ENROLLED,
        reason=f"Enrolled on signed eligible screening #{screening.attempt}; dose slot at {dose_level_label}",
        enrolled_at=timezone.now(),
    )


def _check_enrollable(subject: Subject, screening: Screening | None) -> None:
    """Refuse (409) unless the current screening is eligible, validly signed and inside its windows."""
    if screening is None:
        raise Conflict(f"{subject} has no screening: record one and have it signed before enrolling.")
    evaluation = evaluation_current(screening)
    if evaluation is None or evaluation.outcome != EligibilityEvaluation.Outcome.ELIGIBLE:
        outcome = evaluation.outcome if evaluation else "not evaluated"
        raise Conflict(f"The current screening (#{screening.attempt}) of {subject} is {outcome}, not eligible.")
    _check_signature(subject, screening)
    problem = _timing_problem(subject, screening)
    if problem:
        raise Conflict(problem)


def _check_signature(subject: Subject, screening: Screening) -> None:
    """An investigator's signature must cover the screening's current data."""
    status = signature_status(screening)
    if status.state == "unsigned":
        raise Conflict(
            f"The eligibility of screening #{screening.attempt} of {subject} is not signed by an investigator."
        )
    if status.state == "invalidated":
        raise Conflict(
            f"The signature of screening #{screening.attempt} of {subject} ({status.signature.printed_name}, "
            f"{status.signature.signed_at:%Y-%m-%d %H:%M} UTC) is no longer valid: the screening data changed after "
            f"signing. An investigator must sign it again."
        )


def _timing_problem(subject: Subject, screening: Screening) -> str | None:
    """The screening window before D0 and the enrollment day, in the site's calendar."""
    site, infusion_at = subject.site, screening.planned_infusion_at
    infusion_day = site.local_date(infusion_at) if infusion_at else None
    valid_days = protocol_current().config.scheduling.screening_labs_valid_days
    return screening_window_problem(
        screening_date=screening.screening_date, infusion_day=infusion_day, labs_valid_days=valid_days
    ) or enrollment_day_problem(
        today=site.today(), planned_enrollment_date=screening.planned_enrollment_date, infusion_day=infusion_day
    )


@transaction.atomic
def subject_screen_fail(*, actor: AbstractBaseUser, subject: Subject, reason: str | None) -> ScreenFailure:
    """Record a screen failure with the current evaluation's failing criteria; the subject may be re-screened."""
    reason = require_reason(reason)
    subject = subject_lock(actor=actor, subject=subject)
    if subject.status == Status.ENROLLED:
        raise Conflict(f"{subject} is enrolled: a failure after enrollment is recorded at the D−1 gate (dosing).")
    check_transition(subject, Status.SCREEN_FAILED)
    screening = screening_current(subject)
    evaluation = evaluation_current(screening) if screening else None
    failure = ScreenFailure(
        subject=subject,
        screening=screening,
        evaluation=evaluation,
        reason=reason,
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    save_audited(failure, actor=actor, reason=reason)
    if evaluation is not None:
        failing = evaluation.verdicts.filter(status=CriterionVerdict.Status.FAIL).values_list("criterion", flat=True)
        failure.criteria.set(list(failing))
    subject_status_change(actor=actor, subject=subject, to=Status.SCREEN_FAILED, reason=f"Screen failure: {reason}")
    return failure


@transaction.atomic
def subject_gate_failure_record(
    *, actor: AbstractBaseUser, subject: Subject, reason: str, criteria: list[str]
) -> ScreenFailure:
    """Record the screen failure of an enrolled subject at the dosing gate (the dosing service releases the slot)."""
    subject = subject_lock(actor=actor, subject=subject)
    check_transition(subject, Status.SCREEN_FAILED)
    screening = screening_current(subject)
    failure = ScreenFailure(
        subject=subject,
        screening=screening,
        evaluation=evaluation_current(screening) if screening else None,
        reason=f"Dosing gate: {reason}",
        recorded_by=actor,
        recorded_at=timezone.now(),
    )
    save_audited(failure, actor=actor, reason=reason)
    failure.criteria.set(list(Criterion.objects.filter(protocol=protocol_current(), code__in=criteria)))
    subject_status_change(
        actor=actor, subject=subject, to=Status.SCREEN_FAILED, reason=f"Screen failure at the dosing gate: {reason}"
    )
    return failure
