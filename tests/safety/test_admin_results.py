"""Lab results and temperatures recorded in the admin through the same grading services as the API (issue 12)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from safety.models import AdverseEvent, LabResult, TemperatureRecord
from tests.factories import make_site, make_staff_user
from tests.safety.test_lab_integrity import clock, dosed  # noqa: F401 (fixtures: 25 March 2026, a dosed subject)

pytestmark = pytest.mark.django_db
LAB_ADD, TEMPERATURE_ADD = "/admin/safety/labresult/add/", "/admin/safety/temperaturerecord/add/"


@pytest.fixture
def coordinator(client, dosed):  # noqa: F811
    user = make_staff_user(role_key="study_coordinator", sites=[dosed.site])
    client.force_login(user)
    return client


def test_the_admin_grades_hemoglobin_in_its_unit_and_alt_against_the_screening_baseline(coordinator, dosed):  # noqa: F811
    hemoglobin = {"subject": dosed.pk, "analyte": "anemia", "observed_on": "2026-03-14", "value": "9.8"}
    alt = {"subject": dosed.pk, "analyte": "alt_increased", "observed_on": "2026-03-14", "value": "121"}

    first = coordinator.post(LAB_ADD, {**hemoglobin, "unit": "g/dL", "lln": "12"}, follow=True)
    second = coordinator.post(LAB_ADD, {**alt, "unit": "U/L", "uln": "40"}, follow=True)

    assert (first.status_code, second.status_code) == (200, 200)
    rows = LabResult.objects.order_by("pk").values_list("ctcae_term__code", "value", "unit", "grade", "baseline_source")
    assert list(rows) == [
        ("anemia", Decimal("9.8"), "g/dL", 2, "screening"),
        ("alt_increased", Decimal("121"), "U/L", 1, "screening"),
    ]
    assert f"{dosed}: Alanine aminotransferase increased 121 U/L on 2026-03-14" in second.content.decode()


def test_a_bad_lab_value_is_a_form_error_and_writes_nothing(coordinator, dosed):  # noqa: F811
    body = {"subject": dosed.pk, "analyte": "platelet_count_decreased", "observed_on": "2026-03-14"}

    response = coordinator.post(LAB_ADD, {**body, "value": "-5", "unit": "10^9/L", "lln": "150"})

    assert list(response.context["adminform"].form.errors) == ["value"]
    assert (LabResult.objects.count(), AdverseEvent.objects.count()) == (0, 0)


def test_the_admin_records_a_fever_and_opens_the_episode(coordinator, dosed):  # noqa: F811
    body = {
        "subject": dosed.pk,
        "measured_at_0": "2026-03-20",
        "measured_at_1": "10:00",  # Beijing time: 02:00 UTC,
        "temperature_c": "38.5",
        "source": "visit D10 (phone)",
    }

    response = coordinator.post(TEMPERATURE_ADD, body, follow=True)

    assert response.status_code == 200
    assert list(TemperatureRecord.objects.values_list("measured_at", "grade", "action")) == [
        (datetime(2026, 3, 20, 2, 0, tzinfo=UTC), 1, "created")
    ]
    assert list(AdverseEvent.objects.values_list("ctcae_term__code", "grade")) == [("fever", 1)]


def test_another_sites_coordinator_cannot_choose_the_subject(client, dosed):  # noqa: F811
    client.force_login(make_staff_user(role_key="study_coordinator", sites=[make_site(code="SH02", name="Shanghai")]))
    body = {"subject": dosed.pk, "analyte": "anemia", "observed_on": "2026-03-14", "value": "9.8", "unit": "g/dL"}

    response = client.post(LAB_ADD, body)

    assert list(response.context["adminform"].form.errors) == ["subject"]
    assert LabResult.objects.count() == 0
