"""The gap and the sentinel on the infusion's actual start (issue 12, defect 2), through the API.

Level 1 runs 3+3 (its first subject, dosed in February, had a related grade 2 fever: the titration ended). Subject
S-BJ01-002 (tests/dosing/conftest.py, planned 09:00 on 10 March in Beijing) is dosed third there; S-BJ01-003 was
infused the day before. A start before the plan is checked against that infusion.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from dosing.models import Infusion, InfusionPlan, VitalSigns
from tests.dosing.conftest import AFTER_DRAWS, INFUSION, PLANNED_AT, url, vitals
from tests.factories import make_adverse_event, make_infusion, make_subject

pytestmark = pytest.mark.django_db

FIRST_AT = datetime(2026, 2, 3, 1, 0, tzinfo=UTC)


@pytest.fixture
def first_cleared(trial, clock):
    """The sentinel at level 1, dosed 3 February, window complete, a related grade 2 fever on D1 (path "1G")."""
    clock(FIRST_AT)
    first = make_infusion(subject=make_subject(site=trial), level=1, started_at=FIRST_AT).subject
    clock(FIRST_AT + timedelta(days=2))
    make_adverse_event(subject=first, onset_date=date(2026, 2, 4), grade=2)
    return first


def second_infused(trial, hours_before_plan: float) -> None:
    make_infusion(subject=make_subject(site=trial), level=1, started_at=PLANNED_AT - timedelta(hours=hours_before_plan))


def early(minutes: int, **extra) -> dict:
    started = PLANNED_AT - timedelta(minutes=minutes)
    ended = started + timedelta(minutes=40)
    return {
        **INFUSION,
        "started_at": started.isoformat(),
        "ended_at": ended.isoformat(),
        "vitals_before": vitals(started - timedelta(minutes=5)),
        "vitals_after": vitals(ended + timedelta(minutes=5)),
        **extra,
    }


def nothing_written(subject) -> None:
    assert (Infusion.objects.filter(subject=subject).count(), VitalSigns.objects.count()) == (0, 0)
    assert InfusionPlan.objects.get(subject=subject).status == "scheduled"


def test_an_early_start_23_hours_50_after_the_previous_infusion_is_refused(
    first_cleared, trial, assessed, staff, clock
):
    second_infused(trial, hours_before_plan=24)  # the plan itself keeps the 24-hour gap
    clock(AFTER_DRAWS)

    response = staff.post(url(assessed, "infusion"), early(10, timing_deviation_reason="Ward ready"), format="json")

    message = "S-BJ01-003 was infused at 2026-03-09T09:00+08:00: infusions must start at least 24 hours apart."
    assert (response.status_code, response.json()) == (400, {"detail": message, "errors": {"started_at": [message]}})
    nothing_written(assessed)


def test_an_allowed_early_start_needs_the_deviation_reason(first_cleared, trial, assessed, staff, clock):
    second_infused(trial, hours_before_plan=25)
    clock(AFTER_DRAWS)

    response = staff.post(url(assessed, "infusion"), early(10), format="json")

    message = (
        "The infusion started before its planned time (2026-03-10T09:00+08:00): give the reason (recorded as a "
        "protocol deviation)."
    )
    assert (response.status_code, response.json()) == (
        400,
        {"detail": message, "errors": {"timing_deviation_reason": [message]}},
    )
    nothing_written(assessed)


def test_an_allowed_early_start_with_its_reason_is_recorded_as_a_deviation(
    first_cleared, trial, assessed, staff, clock
):
    second_infused(trial, hours_before_plan=25)
    clock(AFTER_DRAWS)
    body = early(10, timing_deviation_reason="  The product arrived early; the ward was ready.  ")

    response = staff.post(url(assessed, "infusion"), body, format="json")

    assert response.status_code == 201, response.json()
    infusion = Infusion.objects.get(subject=assessed)
    assert (infusion.started_at, infusion.timing_deviation_reason) == (
        PLANNED_AT - timedelta(minutes=10),
        "The product arrived early; the ward was ready.",
    )
    assert infusion.history.first().history_change_reason == (
        "Infusion recorded at L1; protocol deviation: The product arrived early; the ward was ready."
    )


def test_a_deviation_reason_for_a_start_on_time_is_refused(first_cleared, trial, assessed, staff, clock):
    second_infused(trial, hours_before_plan=25)
    clock(AFTER_DRAWS)

    response = staff.post(url(assessed, "infusion"), {**INFUSION, "timing_deviation_reason": "Late"}, format="json")

    message = "The infusion did not start before its planned time: there is no timing deviation to explain."
    assert (response.status_code, response.json()["errors"]) == (400, {"timing_deviation_reason": [message]})
    nothing_written(assessed)
