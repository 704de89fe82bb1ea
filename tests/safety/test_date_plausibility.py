"""Issue 12, defect 9 (date plausibility): no visit before the infusion day, no safety record before consent."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from ctit_trial.errors import InvalidInput
from enrollment.roles import STUDY_COORDINATOR
from safety import services
from safety.models import AdverseEvent, LabResult, TemperatureRecord, Visit
from tests.enrollment.conftest import CONSENT_AT
from tests.factories import make_consent, make_infusion, make_subject, make_visit_schedule

pytestmark = pytest.mark.django_db
INFUSED_AT = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 09:00 on 10 March in Beijing: D0 = 10 March
NOW = datetime(2026, 3, 25, 2, 0, tzinfo=UTC)  # 10:00 on 25 March in Beijing
BEFORE_D0 = "The visit date cannot be before the infusion day (2026-03-10)."


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def dosed(site_a):
    """Consented at 10:00 on 2 March, infused at 09:00 on 10 March (Beijing), its D0…D30 visits planned."""
    call_command("seed", verbosity=0)
    subject = make_subject(site=site_a)
    make_consent(subject=subject, signed_at=CONSENT_AT)
    make_visit_schedule(infusion=make_infusion(subject=subject, level=1, started_at=INFUSED_AT))
    return subject


@pytest.fixture
def coordinator(api_client_for, site_a):
    return api_client_for(STUDY_COORDINATOR, site_a)


def visit_of(subject, code: str) -> Visit:
    return Visit.objects.get(subject=subject, definition__code=code)


def unrecorded(visit: Visit) -> tuple:
    visit.refresh_from_db()
    return visit.status, visit.visit_date, visit.history.count()


def refusal(call) -> dict:
    with pytest.raises(InvalidInput) as refused:
        call()
    return refused.value.errors


def test_a_d2_visit_dated_before_the_infusion_day_is_a_400_and_writes_nothing(dosed, coordinator):
    d2 = visit_of(dosed, "D2")
    before = unrecorded(d2)

    response = coordinator.post(f"/api/v1/visits/{d2.pk}/record/", {"visit_date": "2026-03-09", "platelets": 90})

    assert response.status_code == 400
    assert response.json() == {"detail": BEFORE_D0, "errors": {"visit_date": [BEFORE_D0]}}
    assert unrecorded(d2) == before == ("planned", None, 1)


def test_the_d0_visit_may_be_on_the_infusion_day(dosed, coordinator):
    d0 = visit_of(dosed, "D0")

    response = coordinator.post(f"/api/v1/visits/{d0.pk}/record/", {"visit_date": "2026-03-10", "platelets": 90})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["visit_date"]) == ("done", "2026-03-10")


def test_a_recorded_visit_is_not_corrected_to_before_the_infusion_day(dosed, coordinator):
    d7 = visit_of(dosed, "D7")
    url = f"/api/v1/visits/{d7.pk}/record/"
    assert coordinator.post(url, {"visit_date": "2026-03-17"}).status_code == 200
    before = unrecorded(d7)

    response = coordinator.post(url, {"visit_date": "2026-03-08", "reason": "Date typed wrongly"})

    assert response.status_code == 400
    assert response.json() == {"detail": BEFORE_D0, "errors": {"visit_date": [BEFORE_D0]}}
    assert unrecorded(d7) == before == ("done", date(2026, 3, 17), 2)


def test_the_service_refuses_a_visit_before_the_infusion_day(dosed, coordinator):
    d2 = visit_of(dosed, "D2")

    errors = refusal(
        lambda: services.visit_record(
            actor=coordinator.user, visit=d2, visit_date=date(2026, 3, 9), platelets=None, ae_review_done=True
        )
    )

    assert errors == {"visit_date": [BEFORE_D0]}
    assert unrecorded(d2) == ("planned", None, 1)


def test_the_service_refuses_a_visit_before_the_consent(site_a, coordinator):
    # given a record whose consent is dated after the infusion day (a data-entry slip), so the two bounds differ
    call_command("seed", verbosity=0)
    subject = make_subject(site=site_a)
    make_consent(subject=subject, signed_at=datetime(2026, 3, 12, 2, 0, tzinfo=UTC))
    make_visit_schedule(infusion=make_infusion(subject=subject, level=1, started_at=INFUSED_AT))
    d0 = visit_of(subject, "D0")

    # when the D0 visit is recorded after the infusion day but before that consent
    errors = refusal(
        lambda: services.visit_record(
            actor=coordinator.user, visit=d0, visit_date=date(2026, 3, 11), platelets=None, ae_review_done=True
        )
    )

    # then
    assert errors == {"visit_date": ["The visit date cannot be before the subject's consent (2026-03-12)."]}
    assert unrecorded(d0) == ("planned", None, 1)


def test_a_lab_result_observed_before_the_consent_is_a_400_and_writes_nothing(dosed, coordinator):
    message = "A follow-up lab result cannot be observed before the subject's consent (2026-03-02)."
    body = {"analyte": "platelet_count_decreased", "value": "40", "unit": "10^9/L", "observed_on": "2026-03-01"}

    response = coordinator.post(f"/api/v1/subjects/{dosed.pk}/lab-results/", {**body, "lln": "150"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": message, "errors": {"observed_on": [message]}}
    assert (LabResult.objects.count(), AdverseEvent.objects.count()) == (0, 0)


def test_the_lab_service_refuses_a_result_before_the_consent(dosed, coordinator):
    errors = refusal(
        lambda: services.lab_result_grade(
            actor=coordinator.user,
            subject=dosed,
            analyte="platelet_count_decreased",
            value=Decimal("40"),
            unit="10^9/L",
            lln=Decimal("150"),
            observed_on=date(2026, 3, 1),
        )
    )

    assert errors == {
        "observed_on": ["A follow-up lab result cannot be observed before the subject's consent (2026-03-02)."]
    }
    assert (LabResult.objects.count(), AdverseEvent.objects.count()) == (0, 0)


def test_a_temperature_measured_before_the_consent_is_a_400_and_writes_nothing(dosed, coordinator):
    message = "A temperature cannot be measured before the subject's consent (2026-03-02)."
    body = {"measured_at": "2026-03-01T10:00:00+08:00", "temperature_c": "39.4", "source": "visit vital signs"}

    response = coordinator.post(f"/api/v1/subjects/{dosed.pk}/temperatures/", body, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": message, "errors": {"measured_at": [message]}}
    assert (TemperatureRecord.objects.count(), AdverseEvent.objects.count()) == (0, 0)


def test_the_temperature_service_refuses_a_measurement_before_the_consent(dosed, coordinator):
    errors = refusal(
        lambda: services.temperature_record(
            actor=coordinator.user,
            subject=dosed,
            measured_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC),
            temperature_c=Decimal("39.4"),
            sustained_hours=None,
            source="visit vital signs",
        )
    )

    assert errors == {"measured_at": ["A temperature cannot be measured before the subject's consent (2026-03-02)."]}
    assert (TemperatureRecord.objects.count(), AdverseEvent.objects.count()) == (0, 0)
