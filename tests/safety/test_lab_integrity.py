"""Issue 12, defects 3–5: bad lab input never writes; every result has a unit; the baseline comes from the record."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from ctit_trial.errors import InvalidInput
from enrollment.models import Screening
from safety import services
from safety.models import AdverseEvent, LabResult
from tests.enrollment.documents import changed
from tests.factories import make_consent, make_infusion, make_screening, make_site_member, make_subject

pytestmark = pytest.mark.django_db
INFUSED_AT = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)  # D0 = 10 March in Shanghai


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime(2026, 3, 25, 2, 0, tzinfo=UTC), tick=False)


@pytest.fixture
def dosed(site_a):
    """A dosed subject whose screening (Appendix A, ALT 80 U/L with ULN 40) is on file."""
    call_command("seed", verbosity=0)
    subject = make_subject(site=site_a)
    make_consent(subject=subject, signed_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    make_screening(subject=subject, document=changed({"labs.alt.value": 80}))
    assert Screening.objects.filter(subject=subject).count() == 1
    return make_infusion(subject=subject, level=1, started_at=INFUSED_AT).subject


@pytest.fixture
def grade(dosed):
    member = make_site_member(site=dosed.site, role_key="study_coordinator")

    def grade(analyte: str, value: str, unit: str | None, *, day: int = 14, **references):
        return services.lab_result_grade(
            actor=member,
            subject=dosed,
            analyte=analyte,
            value=Decimal(value),
            unit=unit,
            observed_on=date(2026, 3, day),
            **{name: Decimal(given) for name, given in references.items()},
        )

    return grade


def refusal(call) -> dict:
    with pytest.raises(InvalidInput) as refused:
        call()
    return refused.value.errors


def written(subject) -> tuple:
    return (
        LabResult.objects.filter(subject=subject).count(),
        list(AdverseEvent.objects.filter(subject=subject).values_list("grade", "ongoing", "end_date")),
    )


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "references", "field"),
    [
        ("platelet_count_decreased", "-5", "10^9/L", {"lln": "150"}, "value"),
        ("alt_increased", "-1", "U/L", {"uln": "40"}, "value"),
        ("platelet_count_decreased", "40", "10^9/L", {"lln": "-100"}, "lln"),
        ("alt_increased", "30", "U/L", {"uln": "0"}, "uln"),
        ("alt_increased", "30", "mmol/min", {"uln": "40"}, "unit"),
        ("alt_increased", "30", None, {"uln": "40"}, "unit"),
    ],
)
def test_bad_lab_input_is_refused_on_its_field_and_touches_no_episode(
    grade, dosed, analyte, value, unit, references, field
):
    grade("alt_increased", "250", "U/L", day=12, uln="40")  # an open ALT episode
    grade("platelet_count_decreased", "40", "10^9/L", day=12, lln="150")  # an open platelet episode
    before = written(dosed)

    errors = refusal(lambda: grade(analyte, value, unit, **references))

    assert list(errors) == [field]
    assert written(dosed) == before


def test_the_refusal_messages_name_the_problem(grade):
    assert refusal(lambda: grade("platelet_count_decreased", "-5", "10^9/L", lln="150")) == {
        "value": ["The value -5 ×10⁹/L is not physiologically possible: it must be at least 0 ×10⁹/L."]
    }
    assert refusal(lambda: grade("alt_increased", "30", "U/L", uln="0")) == {
        "uln": ["The ULN must be greater than 0, not 0."]
    }
    assert refusal(lambda: grade("alt_increased", "30", "mmol/min", uln="40")) == {
        "unit": ["Unknown unit 'mmol/min' for this analyte; expected one of: U/L."]
    }


def test_lln_must_lie_below_uln(grade):
    assert list(refusal(lambda: grade("anemia", "98", "g/L", lln="130", uln="120"))) == ["lln"]


def test_hemoglobin_in_g_per_dl_is_converted_before_grading(grade):
    result = grade("anemia", "9.8", "g/dL", lln="12")  # 98 g/L: CTCAE v5 anemia grade 2 (< 10.0 – 8.0 g/dL)

    assert result.grade == 2
    stored = LabResult.objects.get()
    assert (stored.value, stored.unit) == (Decimal("9.8"), "g/dL")


def test_the_baseline_is_the_screening_value_when_the_caller_gives_none(grade):
    result = grade("alt_increased", "121", "U/L", uln="40")  # screening ALT 80 (abnormal): 121 = 1.51 × baseline

    assert result.grade == 1  # CTCAE v5 with an abnormal baseline: > 1.5 – 3.0 × baseline


def test_a_baseline_given_by_the_caller_needs_a_reason(grade):
    assert list(refusal(lambda: grade("alt_increased", "121", "U/L", uln="40", baseline="30"))) == ["baseline_reason"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"analyte": "platelet_count_decreased", "value": "-5", "unit": "10^9/L", "lln": "150"}, "value"),
        ({"analyte": "alt_increased", "value": "30", "uln": "40"}, "unit"),
        ({"analyte": "alt_increased", "value": "30", "unit": "U/L", "uln": "0"}, "uln"),
    ],
)
def test_the_api_answers_400_on_the_field_and_writes_nothing(dosed, body, field):
    client = APIClient()
    client.force_authenticate(make_site_member(site=dosed.site, role_key="study_coordinator"))

    response = client.post(
        f"/api/v1/subjects/{dosed.pk}/lab-results/", {**body, "observed_on": "2026-03-14"}, format="json"
    )

    assert (response.status_code, list(response.json()["errors"])) == (400, [field])
    assert written(dosed) == (0, [])
