"""One subject from consent to the D30 close-out through the API, with the escalation status at each step."""

from datetime import UTC, datetime, timedelta

import pytest

from ctit_trial.audit import system_actor
from dosing import services as dosing_services
from enrollment.roles import INVESTIGATOR, STUDY_COORDINATOR
from tests.dosing.conftest import ASSESSMENT, D0_MORNING, D_MINUS_1_DRAW, D_MINUS_1_NOON, ENDED_AT, INFUSION, PLANNED_AT
from tests.enrollment.conftest import CONSENT_AT, ENROLLING_AT, REGISTERED_AT, SCREENING_AT, SIGNING_AT
from tests.enrollment.documents import APPENDIX_A
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def beijing(day: int, month: int = 3, hour: int = 10) -> datetime:
    """An instant on a Beijing calendar day (10:00 local unless said)."""
    return datetime(2026, month, day, hour, 0, tzinfo=UTC) - timedelta(hours=8)


def test_consent_to_d30_close_out(trial, api_client_for, clock):
    coordinator = api_client_for(STUDY_COORDINATOR, trial)
    investigator = api_client_for(INVESTIGATOR, trial)

    def status() -> dict:
        body = investigator.get("/api/v1/escalation/status/").json()
        return {
            "path": body["path"],
            "action": body["recommendation"]["action"],
            "open": body["open_level"],
            "pending": body["pending_slots"],
            "level": body["recommendation"]["dose_level"],
        }

    def ok(response, code=201):
        assert response.status_code == code, response.json()
        return response.json()

    # given: a registered, consented and screened subject, signed eligible by the investigator
    clock(REGISTERED_AT)
    subject_id = ok(coordinator.post("/api/v1/subjects/", {"site": "BJ01"}, format="json"))["id"]
    base = f"/api/v1/subjects/{subject_id}"
    clock(CONSENT_AT)
    ok(coordinator.post(f"{base}/consent/", {"version": "1.0", "signed_at": CONSENT_AT.isoformat()}, format="json"))
    clock(SCREENING_AT)
    screening = ok(coordinator.post(f"{base}/screenings/", APPENDIX_A, format="json"))
    assert screening["evaluation"]["outcome"] == "eligible"
    clock(SIGNING_AT)
    ok(investigator.post(f"/api/v1/screenings/{screening['id']}/sign/", {"password": PASSWORD}, format="json"), 200)
    assert status() == {"path": "", "action": "enroll", "open": None, "pending": 0, "level": 1}

    # when: level 1 opens and the subject is enrolled
    dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    clock(ENROLLING_AT)
    ok(investigator.post(f"{base}/enroll/", format="json"), 200)
    assert status() == {"path": "", "action": "enroll", "open": 1, "pending": 1, "level": 1}

    # the dosing day: schedule, D−1 reconfirmation, D0 assessment, infusion, draws
    ok(coordinator.post(f"{base}/dosing/schedule/", {"planned_at": PLANNED_AT.isoformat()}, format="json"))
    clock(D_MINUS_1_NOON)
    ok(
        coordinator.post(
            f"{base}/dosing/reconfirmation/",
            {"drawn_at": D_MINUS_1_DRAW.isoformat(), "platelets": "72", "bleeding": False},
            format="json",
        )
    )
    clock(D0_MORNING)
    ok(coordinator.post(f"{base}/dosing/assessment/", ASSESSMENT, format="json"))
    clock(ENDED_AT + timedelta(hours=5))
    ok(investigator.post(f"{base}/dosing/infusion/", INFUSION, format="json"))
    for minutes, count in ((60, "70"), (120, "74"), (240, "79")):
        drawn = (ENDED_AT + timedelta(minutes=minutes)).isoformat()
        ok(
            coordinator.post(
                f"{base}/dosing/draws/",
                {"minutes_after_end": minutes, "drawn_at": drawn, "platelets": count},
                format="json",
            )
        )
    assert status() == {"path": "1P", "action": "hold", "open": 1, "pending": 0, "level": None}

    # follow-up visits on their target days (Beijing calendar)
    visits = {v["code"]: v for v in ok(coordinator.get(f"{base}/visits/"), 200)}
    counts = {"D2": "82", "D3": "88", "D7": "95", "D14": "104", "D28": "110", "D30": None}
    for code, count in counts.items():
        day = datetime.fromisoformat(visits[code]["target_date"])
        clock(beijing(day.day, day.month))
        body = {"visit_date": visits[code]["target_date"], "platelets": count, "ae_review_done": True}
        ok(coordinator.post(f"/api/v1/visits/{visits[code]['id']}/record/", body, format="json"), 200)
        if code == "D28":  # the window includes D28 itself: still pending that day
            assert status()["path"] == "1P"
            clock(beijing(day.day + 1, day.month))
            assert status() == {"path": "1N", "action": "escalate", "open": 1, "pending": 0, "level": 2}

    # then: the follow-up closes out, and the platelet endpoints use the draws and the screening's body size
    assert ok(coordinator.post(f"{base}/close-out/", format="json"), 200) == {
        "subject": "S-BJ01-001",
        "status": "completed",
    }
    platelets = ok(coordinator.get(f"{base}/platelets/"), 200)
    assert (platelets["baseline"], platelets["bsa_m2"], platelets["viable_cells_infused"]) == (68.0, 1.5635, 100000000)
    assert [(t["time_point"], t["delta"]) for t in platelets["time_points"]] == [
        ("1h", 2.0),
        ("2h", 6.0),
        ("4h", 11.0),
        ("D2", 14.0),
        ("D3", 20.0),
        ("D7", 27.0),
        ("D14", 36.0),
        ("D28", 42.0),
    ]
    assert status()["path"] == "1N"
