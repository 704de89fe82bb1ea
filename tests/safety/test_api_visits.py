"""Visits through the API: the schedule per subject, recording (deviation flagged), missed, overdue, site scoping."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from enrollment.roles import MONITOR, STUDY_COORDINATOR
from safety.models import Visit
from tests.factories import make_infusion, make_subject, make_visit_schedule

pytestmark = pytest.mark.django_db
INFUSED_AT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # 07:00 on 2 June in Shanghai


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime(2026, 6, 11, 2, 0, tzinfo=UTC), tick=False)  # 10:00 on 11 June in Shanghai


@pytest.fixture
def infusion(site_a):
    call_command("seed", verbosity=0)
    return make_infusion(subject=make_subject(site=site_a), level=1, started_at=INFUSED_AT)


@pytest.fixture
def coordinator(api_client_for, site_a):
    return api_client_for(STUDY_COORDINATOR, site_a)


def visit_id(subject, code: str) -> int:
    return Visit.objects.get(subject=subject, definition__code=code).pk


def test_the_schedule_is_created_once_and_listed_in_site_local_dates(infusion, coordinator):
    url = f"/api/v1/subjects/{infusion.subject_id}/visits/"

    created = coordinator.post(url)
    again = coordinator.post(url)
    listed = coordinator.get(url).json()

    assert (created.status_code, again.status_code, Visit.objects.count()) == (201, 201, 7)
    assert [(v["code"], v["target_date"], v["window_earliest"], v["window_latest"]) for v in listed[:4]] == [
        ("D0", "2026-06-02", "2026-06-02", "2026-06-02"),
        ("D2", "2026-06-04", "2026-06-04", "2026-06-04"),
        ("D3", "2026-06-05", "2026-06-05", "2026-06-05"),
        ("D7", "2026-06-09", "2026-06-08", "2026-06-10"),
    ]
    assert listed[0]["subject"] == "S-BJ01-001"


def test_no_schedule_before_the_infusion(infusion, coordinator, site_a):
    undosed = make_subject(site=site_a)

    response = coordinator.post(f"/api/v1/subjects/{undosed.pk}/visits/")

    assert response.status_code == 409
    assert response.json()["detail"] == "S-BJ01-002 has no infusion: the visit schedule starts from D0."


def test_recording_out_of_window_is_accepted_and_flagged(infusion, coordinator):
    make_visit_schedule(infusion=infusion)
    url = f"/api/v1/visits/{visit_id(infusion.subject, 'D7')}/record/"

    response = coordinator.post(url, {"visit_date": "2026-06-11", "platelets": 81, "ae_review_done": True})

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["platelets"], body["deviation"]) == ("done", 81.0, True)
    assert body["deviation_reason"] == (
        "Out of window: 2026-06-11 is 1 day(s) after the D7 window 2026-06-08…2026-06-10 (D7 −1/+1)."
    )


def test_bad_input_names_the_field_and_saves_nothing(infusion, coordinator):
    make_visit_schedule(infusion=infusion)
    url = f"/api/v1/visits/{visit_id(infusion.subject, 'D7')}/record/"

    future = coordinator.post(url, {"visit_date": "2026-06-12"})
    negative = coordinator.post(url, {"visit_date": "2026-06-09", "platelets": -5})
    correction = coordinator.post(url, {"visit_date": "2026-06-09"})
    no_reason = coordinator.post(url, {"visit_date": "2026-06-10"})

    assert future.status_code == 400
    assert future.json() == {
        "detail": "The visit date cannot be in the future (today at BJ01 is 2026-06-11).",
        "errors": {"visit_date": ["The visit date cannot be in the future (today at BJ01 is 2026-06-11)."]},
    }
    assert (negative.status_code, list(negative.json()["errors"])) == (400, ["platelets"])
    assert correction.status_code == 200
    assert (no_reason.status_code, list(no_reason.json()["errors"])) == (400, ["reason"])
    assert str(Visit.objects.get(pk=visit_id(infusion.subject, "D7")).visit_date) == "2026-06-09"


def test_missed_and_overdue(infusion, coordinator):
    make_visit_schedule(infusion=infusion)

    overdue_before = [v["code"] for v in coordinator.get("/api/v1/visits/overdue/").json()["results"]]
    missed = coordinator.post(f"/api/v1/visits/{visit_id(infusion.subject, 'D2')}/missed/", {"reason": "No show"})
    overdue_after = [v["code"] for v in coordinator.get("/api/v1/visits/overdue/").json()["results"]]

    assert overdue_before == ["D0", "D2", "D3", "D7"]
    assert missed.json()["status"] == "missed"
    assert overdue_after == ["D0", "D3", "D7"]


def test_another_sites_visits_are_not_found(infusion, api_client_for, site_b):
    make_visit_schedule(infusion=infusion)
    outsider = api_client_for(STUDY_COORDINATOR, site_b)
    visit = visit_id(infusion.subject, "D7")

    assert outsider.get(f"/api/v1/subjects/{infusion.subject_id}/visits/").status_code == 404
    assert outsider.get(f"/api/v1/visits/{visit}/").status_code == 404
    assert outsider.post(f"/api/v1/visits/{visit}/record/", {"visit_date": "2026-06-09"}).status_code == 404
    assert outsider.get("/api/v1/visits/").json()["count"] == 0


def test_the_monitor_reads_but_does_not_record(infusion, api_client_for):
    make_visit_schedule(infusion=infusion)
    monitor = api_client_for(MONITOR)

    listed = monitor.get("/api/v1/visits/?status=planned")
    refused = monitor.post(f"/api/v1/visits/{visit_id(infusion.subject, 'D7')}/record/", {"visit_date": "2026-06-09"})

    assert listed.json()["count"] == 7
    assert refused.status_code == 403
