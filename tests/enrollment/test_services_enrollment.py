"""Investigator sign-off, enrollment (with the dosing app's slot claim) and screen failure through the services."""

import pytest

from ctit_trial import journey
from ctit_trial.audit import system_actor
from ctit_trial.errors import Conflict, InvalidInput, PermissionDenied
from ctit_trial.signatures import WRONG_PASSWORD, signature_is_valid
from dosing import services as dosing_services
from dosing.models import DoseSlot
from enrollment import selectors, services
from enrollment.documents import screening_document
from enrollment.models import EligibilitySignature, ScreenFailure, Subject
from enrollment.roles import INVESTIGATOR, STUDY_COORDINATOR
from tests.enrollment.conftest import ENROLLING_AT, SIGNING_AT
from tests.enrollment.documents import changed
from tests.factories import PASSWORD, make_screening, make_staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def doctor(trial):
    return make_staff_user(role_key=INVESTIGATOR, sites=[trial], username="dr-wang")


@pytest.fixture
def signed(screened, doctor, clock):
    """The Appendix A screening signed by the investigator on 2026-03-04; level 1 open; the clock at 03-05."""
    clock(SIGNING_AT)
    services.eligibility_sign(actor=doctor, screening=selectors.screening_current(screened), password=PASSWORD)
    dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    clock(ENROLLING_AT)
    return screened


def correct(subject, actor, changes: dict, reason: str = "Corrected") -> None:
    screening = selectors.screening_current(subject)
    services.screening_update(actor=actor, screening=screening, document=changed(changes), reason=reason)


def enroll_refusal(subject, actor) -> str:
    with pytest.raises(Conflict) as refused:
        journey.subject_enroll(actor=actor, subject=subject)
    subject.refresh_from_db()
    assert (subject.status, subject.enrolled_at) == ("screening", None)
    assert not DoseSlot.objects.filter(subject=subject).exists()
    return refused.value.message


def test_investigator_signs_the_eligible_screening_bound_to_its_digest(screened, doctor, clock):
    clock(SIGNING_AT)
    screening = selectors.screening_current(screened)

    signature = services.eligibility_sign(actor=doctor, screening=screening, password=PASSWORD)

    assert (signature.printed_name, signature.meaning, signature.signed_at) == (
        "Test Investigator",
        "eligibility confirmed",
        SIGNING_AT,
    )
    content = selectors.signature_content(screening_document(screening), evaluation_id=signature.evaluation_id)
    assert signature_is_valid(signature, record=screening, content=content)
    assert selectors.signature_status(screening).state == "valid"
    assert signature.history.first().history_change_reason == "Eligibility signed: eligibility confirmed"


def test_wrong_password_signs_nothing(screened, doctor):
    with pytest.raises(InvalidInput) as refused:
        services.eligibility_sign(actor=doctor, screening=selectors.screening_current(screened), password="guess")

    assert refused.value.errors == {"password": [WRONG_PASSWORD]}
    assert EligibilitySignature.objects.count() == 0


def test_a_coordinator_cannot_sign(screened, trial):
    coordinator = make_staff_user(role_key=STUDY_COORDINATOR, sites=[trial])

    with pytest.raises(PermissionDenied, match="Only investigators can sign eligibility."):
        services.eligibility_sign(actor=coordinator, screening=selectors.screening_current(screened), password=PASSWORD)


def test_only_an_eligible_screening_can_be_signed(consented, doctor):
    screening = make_screening(
        subject=consented, document=changed({"labs.platelets.value": 120, "history.investigator_excludes": None})
    )

    with pytest.raises(Conflict) as refused:
        services.eligibility_sign(actor=doctor, screening=screening, password=PASSWORD)

    assert refused.value.message == (
        "Only an eligible screening can be signed: screening #1 of S-BJ01-001 is ineligible (fail: IN2; review: EX21)."
    )


def test_changing_one_lab_value_invalidates_the_signature(signed, doctor):
    correct(signed, doctor, {"labs.alt.value": 31})

    status = selectors.signature_status(selectors.screening_current(signed))
    assert status.state == "invalidated"
    assert status.signature.printed_name == "Test Investigator"


def test_a_valid_signature_is_not_signed_twice(signed, doctor):
    with pytest.raises(
        Conflict,
        match=r"already carries a valid signature \(Test Investigator — eligibility confirmed — 2026-03-04 03:00 UTC\)",
    ):
        services.eligibility_sign(actor=doctor, screening=selectors.screening_current(signed), password=PASSWORD)


def test_enrollment_claims_a_slot_and_marks_the_subject_enrolled(signed, doctor):
    slot = journey.subject_enroll(actor=doctor, subject=signed)

    signed.refresh_from_db()
    assert (signed.status, signed.enrolled_at) == ("enrolled", ENROLLING_AT)
    assert (slot.dose_level.level, slot.status, slot.subject) == (1, "claimed", signed)
    latest = signed.history.first()
    assert (latest.history_user, latest.history_change_reason) == (
        doctor,
        "Enrolled on signed eligible screening #1; dose slot at L1",
    )


def test_enrollment_refused_while_unsigned(screened, doctor, clock):
    dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    clock(ENROLLING_AT)

    assert enroll_refusal(screened, doctor) == (
        "The eligibility of screening #1 of S-BJ01-001 is not signed by an investigator."
    )


def test_enrollment_refused_when_the_signature_is_stale(signed, doctor):
    correct(signed, doctor, {"labs.hemoglobin.value": 99})

    assert enroll_refusal(signed, doctor) == (
        "The signature of screening #1 of S-BJ01-001 (Test Investigator, 2026-03-04 03:00 UTC) is no longer valid: "
        "the screening data changed after signing. An investigator must sign it again."
    )


def test_enrollment_refused_when_the_screening_is_outside_the_window(signed, doctor):
    # given: the infusion moved to 20 March, so labs of 3 March are older than 14 days before D0; signed again
    correct(signed, doctor, {"planned_infusion_at": "2026-03-20T09:00:00+08:00"})
    services.eligibility_sign(actor=doctor, screening=selectors.screening_current(signed), password=PASSWORD)

    assert enroll_refusal(signed, doctor) == (
        "The screening of 2026-03-03 is outside the screening window: labs are valid 14 days before D0 "
        "(2026-03-20), so the screening must be on or after 2026-03-06. Re-screen the subject."
    )


def test_enrollment_refused_on_another_day_than_planned(signed, doctor, clock):
    clock(SIGNING_AT)

    assert enroll_refusal(signed, doctor) == (
        "Today (2026-03-04) is not the planned enrollment date 2026-03-05 that eligibility was evaluated against: "
        "correct the planned enrollment date (with a reason) and sign again."
    )


def test_enrollment_refused_when_no_level_is_open(screened, doctor, clock):
    clock(SIGNING_AT)
    services.eligibility_sign(actor=doctor, screening=selectors.screening_current(screened), password=PASSWORD)
    clock(ENROLLING_AT)

    assert enroll_refusal(screened, doctor) == "No dose level is open for enrollment."


def test_a_refused_slot_claim_leaves_the_subject_in_screening(signed, doctor, monkeypatch):
    def no_slot(*, actor, subject):
        raise Conflict("Level 1 has no free slot.")

    monkeypatch.setattr(dosing_services, "slot_claim", no_slot)

    assert enroll_refusal(signed, doctor) == "Level 1 has no free slot."


def test_an_enrolled_subject_is_not_enrolled_again(signed, doctor):
    journey.subject_enroll(actor=doctor, subject=signed)

    with pytest.raises(Conflict) as refused:
        journey.subject_enroll(actor=doctor, subject=signed)

    assert refused.value.message == (
        "S-BJ01-001 has status 'enrolled' and cannot become 'enrolled' (allowed next: 'dosed', 'screen_failed', "
        "'withdrawn')."
    )
    assert DoseSlot.objects.filter(subject=signed).count() == 1


def test_screen_failure_records_the_failing_criteria(consented, doctor):
    make_screening(subject=consented, document=changed({"labs.platelets.value": 42, "ecog": 3}))

    failure = services.subject_screen_fail(actor=doctor, subject=consented, reason="PLT and ECOG out of range")

    consented.refresh_from_db()
    assert consented.status == "screen_failed"
    assert sorted(failure.criteria.values_list("code", flat=True)) == ["IN2", "IN4"]
    assert (failure.reason, failure.recorded_by) == ("PLT and ECOG out of range", doctor)
    assert consented.history.first().history_change_reason == "Screen failure: PLT and ECOG out of range"
    criteria_row = failure.history.first()  # written when the criteria were set
    assert (criteria_row.history_user, criteria_row.history_change_reason) == (doctor, "PLT and ECOG out of range")
    assert sorted(row.criterion.code for row in criteria_row.criteria.all()) == ["IN2", "IN4"]


def test_screen_failure_needs_a_reason(screened, doctor):
    with pytest.raises(InvalidInput):
        services.subject_screen_fail(actor=doctor, subject=screened, reason="")

    assert ScreenFailure.objects.count() == 0


def test_a_screen_failure_cannot_be_enrolled(screened, doctor):
    services.subject_screen_fail(actor=doctor, subject=screened, reason="Withdrew consent to procedures")

    with pytest.raises(Conflict) as refused:
        journey.subject_enroll(actor=doctor, subject=screened)

    assert refused.value.message == (
        "S-BJ01-001 has status 'screen_failed' and cannot become 'enrolled' (allowed next: 'screening')."
    )


def test_an_enrolled_subject_fails_at_the_dosing_gate_not_here(signed, doctor):
    journey.subject_enroll(actor=doctor, subject=signed)

    with pytest.raises(Conflict, match="a failure after enrollment is recorded at the D−1 gate"):
        services.subject_screen_fail(actor=doctor, subject=signed, reason="PLT 40 on D-1")

    assert Subject.objects.get(pk=signed.pk).status == "enrolled"
