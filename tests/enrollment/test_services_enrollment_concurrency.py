"""Concurrent enrollment on PostgreSQL: the subject row lock and the dose level lock keep the counts exact."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ctit_trial import journey
from ctit_trial.audit import system_actor
from ctit_trial.errors import Conflict
from dosing import services as dosing_services
from dosing.models import DoseSlot
from enrollment import selectors, services
from enrollment.models import Subject
from enrollment.roles import INVESTIGATOR
from tests.enrollment.conftest import CONSENT_AT, ENROLLING_AT, SCREENING_AT, SIGNING_AT
from tests.enrollment.documents import APPENDIX_A
from tests.factories import (
    PASSWORD,
    make_consent,
    make_infusion,
    make_screening,
    make_staff_user,
    make_subject,
    set_open_level,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def signed_subject(site, doctor, clock) -> Subject:
    subject = make_subject(site=site)
    clock(CONSENT_AT)
    make_consent(subject=subject, signed_at=CONSENT_AT)
    clock(SCREENING_AT)
    make_screening(subject=subject, document=APPENDIX_A)
    clock(SIGNING_AT)
    services.eligibility_sign(actor=doctor, screening=selectors.screening_current(subject), password=PASSWORD)
    return subject


def race(doctor, subjects: list[Subject]) -> list[str]:
    barrier = Barrier(len(subjects))

    def attempt(subject):
        barrier.wait()
        try:
            journey.subject_enroll(actor=doctor, subject=subject)
            return "enrolled"
        except Conflict as refusal:
            return refusal.message
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(subjects)) as pool:
        return list(pool.map(attempt, subjects))


@pytest.fixture
def doctor(trial):
    return make_staff_user(role_key=INVESTIGATOR, sites=[trial])


def test_two_subjects_race_for_the_single_level_one_slot(trial, doctor, clock):
    # given: two signed eligible subjects; L1 (accelerated titration) takes one subject
    first, second = signed_subject(trial, doctor, clock), signed_subject(trial, doctor, clock)
    dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    clock(ENROLLING_AT)

    # when
    outcomes = race(doctor, [first, second])

    # then: one enrolled with a slot; the other refused and left in screening, without a slot
    assert sorted(outcomes) == [
        "Level 1 has no free slot: the engine allows 1 more subject(s) and 1 already hold a slot.",
        "enrolled",
    ]
    statuses = sorted(Subject.objects.values_list("status", flat=True))
    assert statuses == ["enrolled", "screening"]
    assert DoseSlot.objects.count() == 1
    assert DoseSlot.objects.get().subject.status == "enrolled"


def test_the_same_subject_enrolled_twice_at_once_gets_one_slot(trial, doctor, clock):
    subject = signed_subject(trial, doctor, clock)
    dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    clock(ENROLLING_AT)

    outcomes = race(doctor, [subject, subject])

    assert sorted(outcomes) == [
        "S-BJ01-001 has status 'enrolled' and cannot become 'enrolled' (allowed next: 'dosed', 'screen_failed', "
        "'withdrawn').",
        "enrolled",
    ]
    assert DoseSlot.objects.filter(subject=subject).count() == 1


def test_twenty_simultaneous_api_enrollments_for_three_free_slots(trial, doctor, clock):
    # given: 20 subjects registered at once, each signed eligible; "1N 2X" at level 2 leaves 3 free slots
    clock(CONSENT_AT - timedelta(days=1))
    numbers = race_register(doctor, trial, count=20)
    subjects = list(Subject.objects.order_by("pk"))
    for subject in subjects:
        clock(CONSENT_AT)
        make_consent(subject=subject, signed_at=CONSENT_AT)
        clock(SCREENING_AT)
        make_screening(subject=subject, document=APPENDIX_A)
        clock(SIGNING_AT)
        services.eligibility_sign(actor=doctor, screening=selectors.screening_current(subject), password=PASSWORD)
    set_open_level(1)
    make_infusion(subject=make_subject(site=trial), level=1, started_at=ENROLLING_AT - timedelta(days=60))
    set_open_level(2)
    make_infusion(
        subject=make_subject(site=trial),
        level=2,
        started_at=ENROLLING_AT - timedelta(days=20),
        early_stop="non_toxicity",
    )
    clock(ENROLLING_AT)

    # when: every subject's enrollment is requested through the API at the same moment
    codes = race_api_enroll(doctor, subjects)

    # then: exactly 3 enrolled, 17 refused with 409; no slot twice; no study number twice
    assert sorted(codes) == [200] * 3 + [409] * 17
    assert Subject.objects.filter(status="enrolled").count() == 3
    slots = DoseSlot.objects.filter(dose_level__level=2, status="claimed")
    assert slots.count() == 3
    assert len(set(slots.values_list("subject_id", flat=True))) == 3
    assert len(numbers) == len(set(numbers)) == 20


def race_register(doctor, site, *, count: int) -> list[str]:
    barrier = Barrier(count)

    def attempt(_):
        barrier.wait()
        try:
            return services.subject_register(actor=doctor, site=site).study_number
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(attempt, range(count)))


def race_api_enroll(doctor, subjects: list[Subject]) -> list[int]:
    barrier = Barrier(len(subjects))

    def attempt(subject):
        client = APIClient()
        client.force_authenticate(user=doctor)
        barrier.wait()
        try:
            return client.post(f"/api/v1/subjects/{subject.pk}/enroll/", {}, format="json").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(subjects)) as pool:
        return list(pool.map(attempt, subjects))
