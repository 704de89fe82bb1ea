"""SRC decisions through the API, and the escalation status they unblock."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from ctit_trial.audit import system_actor
from ctit_trial.signatures import WRONG_PASSWORD
from dosing import services
from dosing.models import DoseLevel, SrcDecision, SrcSignature
from enrollment.roles import MONITOR, SRC_MEMBER
from tests.factories import PASSWORD, make_infusion, make_subject

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
DECISION = {
    "meeting_date": "2026-05-31",
    "data_cutoff": "2026-05-31T08:00:00+08:00",
    "members_present": ["src-a", "src-b"],
    "decision": "escalate",
    "dose_level": 2,
}


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def one_subject_cleared(site_a):
    """Level 1 open; its titration subject completed the DLT window without DLT: path "1N"."""
    call_command("seed", verbosity=0)
    services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    make_infusion(subject=make_subject(site=site_a), level=1, started_at=NOW - timedelta(days=40))


@pytest.fixture
def src(api_client_for, site_a):
    return {name: api_client_for(SRC_MEMBER, site_a, username=name) for name in ("src-a", "src-b", "src-c")}


def test_status_shows_the_recommendation_and_the_missing_src_decision(api_client_for, one_subject_cleared):
    body = api_client_for(MONITOR).get("/api/v1/escalation/status/").json()

    assert body["path"] == "1N"
    assert body["recommendation"]["action"] == "escalate"
    assert (body["recommendation"]["dose_level"], body["recommendation"]["subjects"]) == (2, 3)
    assert body["open_level"] == 1
    assert body["blockers"] == ["Missing SRC decision: the engine recommends escalate at level 2."]
    assert body["what_if"]["next_dlt"]["action"] == "enroll"
    assert body["what_if"]["next_no_dlt"]["action"] == "enroll"


def test_two_signatures_make_the_escalation_effective(one_subject_cleared, src):
    created = src["src-a"].post("/api/v1/src-decisions/", DECISION, format="json")
    decision_id = created.json()["id"]

    first = src["src-a"].post(f"/api/v1/src-decisions/{decision_id}/sign/", {"password": PASSWORD}, format="json")
    levels_after_one = dict(DoseLevel.objects.values_list("level", "status"))
    second = src["src-b"].post(f"/api/v1/src-decisions/{decision_id}/sign/", {"password": PASSWORD}, format="json")

    assert created.status_code == 201
    assert created.json()["recommendation"] == {
        "action": "escalate",
        "dose_level": 2,
        "subjects": 3,
        "reason": "0 DLT and no related grade ≥2 AE in 1 evaluable subject at level 1: escalate to level 2",
    }
    assert (first.json()["status"], levels_after_one) == (
        "awaiting_signatures",
        {1: "open", 2: "not_open", 3: "not_open"},
    )
    assert second.json()["status"] == "effective"
    assert [s["printed_name"] for s in second.json()["signatures"]] == ["Test Src_Member", "Test Src_Member"]
    assert all(s["valid"] and s["meaning"] == "approved" for s in second.json()["signatures"])
    assert dict(DoseLevel.objects.values_list("level", "status")) == {1: "closed", 2: "open", 3: "not_open"}
    assert DoseLevel.objects.get(level=2).history.first().history_change_reason.startswith("SRC decision of 2026-05-31")


def test_status_after_escalation_has_no_blocker(one_subject_cleared, src, api_client_for):
    decision_id = src["src-a"].post("/api/v1/src-decisions/", DECISION, format="json").json()["id"]
    for name in ("src-a", "src-b"):
        src[name].post(f"/api/v1/src-decisions/{decision_id}/sign/", {"password": PASSWORD}, format="json")

    body = api_client_for(MONITOR).get("/api/v1/escalation/status/").json()

    assert (body["open_level"], body["blockers"], body["pending_slots"]) == (2, [], 0)
    assert body["earliest_next_dosing_at"] == "2026-06-01T02:00:00Z"


def test_wrong_password_signs_nothing(one_subject_cleared, src):
    decision_id = src["src-a"].post("/api/v1/src-decisions/", DECISION, format="json").json()["id"]

    response = src["src-a"].post(f"/api/v1/src-decisions/{decision_id}/sign/", {"password": "nope"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": WRONG_PASSWORD, "errors": {"password": [WRONG_PASSWORD]}}
    assert SrcSignature.objects.count() == 0


def test_a_member_not_present_cannot_sign(one_subject_cleared, src):
    decision_id = src["src-a"].post("/api/v1/src-decisions/", DECISION, format="json").json()["id"]

    response = src["src-c"].post(f"/api/v1/src-decisions/{decision_id}/sign/", {"password": PASSWORD}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "Only SRC members present at the meeting can sign its decision."


def test_a_different_decision_needs_a_rationale(one_subject_cleared, src):
    expand = {**DECISION, "decision": "expand", "dose_level": 1}

    refused = src["src-a"].post("/api/v1/src-decisions/", expand, format="json")
    accepted = src["src-a"].post(
        "/api/v1/src-decisions/", {**expand, "rationale": "Wait for the D30 labs of subject 1"}, format="json"
    )

    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "rationale": ["The decision differs from the engine's recommendation (escalate level 2): give the reason."]
    }
    assert accepted.status_code == 201
    assert SrcDecision.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"dose_level": 1}, "dose_level", "Level 1 does not fit 'escalate' while level 1 is open."),
        ({"dose_level": 4}, "dose_level", "Give a dose level from 1 to 3."),
        ({"members_present": ["src-a"]}, "members_present", "At least 2 SRC members must be present; 1 listed."),
        ({"members_present": ["src-a", "nobody"]}, "members_present", "Unknown users: nobody."),
        ({"data_cutoff": "2026-07-01T00:00:00Z"}, "data_cutoff", "The data cut-off cannot be in the future."),
    ],
)
def test_bad_decisions_name_the_field(one_subject_cleared, src, changes, field, message):
    response = src["src-a"].post("/api/v1/src-decisions/", {**DECISION, **changes}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][field] == [message]
    assert SrcDecision.objects.count() == 0


def test_monitor_cannot_record_decisions(one_subject_cleared, api_client_for):
    response = api_client_for(MONITOR).post("/api/v1/src-decisions/", DECISION, format="json")

    assert response.status_code == 403
