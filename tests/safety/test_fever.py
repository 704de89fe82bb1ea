"""Issue 12, defect 8: fever is graded from recorded temperatures, as an episode like a lab-graded AE."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from safety import services
from safety.models import AdverseEvent, TemperatureRecord
from tests.factories import make_consent, make_infusion, make_site_member, make_subject

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 25, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def dosed(site_a):
    call_command("seed", verbosity=0)
    subject = make_subject(site=site_a)
    make_consent(subject=subject, signed_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    return make_infusion(subject=subject, level=1, started_at=datetime(2026, 3, 9, 23, 0, tzinfo=UTC)).subject


@pytest.fixture
def coordinator(dosed):
    return make_site_member(site=dosed.site, role_key="study_coordinator")


def test_temperatures_open_worsen_and_close_one_fever_episode(dosed, coordinator):
    def record(day: int, celsius: str, hours: str | None = None):
        return services.temperature_record(
            actor=coordinator,
            subject=dosed,
            measured_at=datetime(2026, 3, day, 2, 0, tzinfo=UTC),
            temperature_c=Decimal(celsius),
            sustained_hours=None if hours is None else Decimal(hours),
            source="visit vital signs",
        )

    results = [record(11, "38.5"), record(12, "40.3", "30"), record(13, "38.2"), record(14, "36.8")]

    assert [(r.grade, r.action) for r in results] == [
        (1, "created"),
        (4, "worsened"),
        (1, "unchanged"),
        (None, "closed"),
    ]
    fever = AdverseEvent.objects.get()
    assert (fever.ctcae_term.code, fever.grade, fever.ongoing, fever.source) == ("fever", 4, False, "vitals")
    assert TemperatureRecord.objects.count() == 4


def test_an_impossible_temperature_is_a_400_naming_the_field_and_writes_nothing(dosed, coordinator):
    client = APIClient()
    client.force_authenticate(coordinator)

    response = client.post(
        f"/api/v1/subjects/{dosed.pk}/temperatures/",
        {"measured_at": "2026-03-11T10:00:00+08:00", "temperature_c": "48.0", "source": "visit D2"},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["temperature_c"]
    assert (TemperatureRecord.objects.count(), AdverseEvent.objects.count()) == (0, 0)


def test_a_fever_recorded_through_the_api_opens_the_episode(dosed, coordinator):
    client = APIClient()
    client.force_authenticate(coordinator)

    response = client.post(
        f"/api/v1/subjects/{dosed.pk}/temperatures/",
        {"measured_at": "2026-03-11T10:00:00+08:00", "temperature_c": "39.4", "source": "visit D2"},
        format="json",
    )

    assert (response.status_code, response.json()["grade"], response.json()["action"]) == (200, 2, "created")
