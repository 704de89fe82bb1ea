"""The dosing interlock (issue 12, defect 1): every dosing-day step re-derives the live decision under the level's lock.

The story of the issue, on the Appendix A dates at BJ01 (UTC+8): subject A and two more were dosed at level 1 in
January (A's related grade 3 anaphylaxis, judged not a DLT, ended the titration) and completed the DLT window without
a DLT; a signed SRC decision opened level 2, where subject B enrolled and was scheduled for 09:00 on 10 March. On D−1
afternoon A's anaphylaxis is re-adjudicated as a DLT: the live path is "1TNN" and the engine asks for 3 more subjects
at level 1 (expand to 6). From then on every dosing step of B at level 2 is refused (409) until a signed SRC decision
de-escalates to level 1 and B's slot is moved there.
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from ctit_trial import journey
from ctit_trial.audit import system_actor
from dosing import selectors as dosing_selectors
from dosing import services as dosing_services
from dosing.models import DoseLevel, DoseSlot, Infusion, InfusionPlan, PreInfusionAssessment, Reconfirmation
from enrollment import services as enrollment_services
from enrollment.roles import INVESTIGATOR, MONITOR, SRC_MEMBER
from enrollment.selectors import protocol_current
from safety import selectors as safety_selectors
from safety import services as safety_services
from safety.rules.reminders import ReminderKind
from tests.dosing.conftest import (
    ASSESSMENT,
    D0_MORNING,
    D_MINUS_1_DRAW,
    D_MINUS_1_NOON,
    ENDED_AT,
    INFUSION,
    PLANNED_AT,
    url,
)
from tests.enrollment.conftest import CONSENT_AT, ENROLLING_AT, REGISTERED_AT, SCREENING_AT, SIGNING_AT
from tests.enrollment.documents import APPENDIX_A
from tests.factories import (
    PASSWORD,
    make_adverse_event,
    make_consent,
    make_infusion,
    make_screening,
    make_staff_user,
    make_subject,
)

pytestmark = pytest.mark.django_db

A_DOSED_AT = datetime(2026, 1, 10, 1, 0, tzinfo=UTC)  # 09:00 on 10 January in Beijing: D28 is 7 February
REJECTED_AT = datetime(2026, 2, 10, 2, 0, tzinfo=UTC)
ESCALATED_AT = datetime(2026, 2, 20, 2, 0, tzinfo=UTC)
READJUDICATED_AT = D_MINUS_1_NOON + timedelta(hours=3)  # 15:00 on D−1: B has passed the reconfirmation
DE_ESCALATED_AT = PLANNED_AT + timedelta(hours=4)  # 13:00 on D0
AT_LEVEL_2 = (
    "The escalation engine now recommends dosing level 1 (1 DLT and no related grade ≥2 AE in 3 evaluable subjects "
    "at level 1: expand to 6): dosing at level 2 is paused until a signed SRC decision; then move or release the slot."
)
LEVEL_2_CLOSED = "Level 2 is closed: release the slot or move it to the open level, with a reason."


def refused(step: str, problem: str) -> tuple[int, dict]:
    return 409, {"detail": f"{step} refused for S-BJ01-004: {problem}", "errors": {"dose_level": [problem]}}


@pytest.fixture
def src(trial):
    return [make_staff_user(role_key=SRC_MEMBER, sites=[trial], username=name) for name in ("src-a", "src-b")]


def src_decide(src, *, decision: str, dose_level: int, on: datetime) -> None:
    record = dosing_services.src_decision_record(
        actor=src[0],
        meeting_date=on.date(),
        data_cutoff=on - timedelta(hours=1),
        members=src,
        decision=decision,
        dose_level=dose_level,
    )
    for member in src:
        dosing_services.src_decision_sign(actor=member, decision=record, password=PASSWORD)


@pytest.fixture
def story(trial, src, api_client_for, clock):
    """A dosed at level 1 ("1N"), level 2 opened by the SRC, B enrolled there, scheduled and reconfirmed on D−1."""
    clock(A_DOSED_AT - timedelta(days=1))
    dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    a = make_infusion(subject=make_subject(site=trial), level=1, started_at=A_DOSED_AT).subject
    for day in (1, 2):  # a related grade 3 AE ends the titration: 3+3 at level 1 needs two more subjects
        make_infusion(subject=make_subject(site=trial), level=1, started_at=A_DOSED_AT + timedelta(days=day))
    clock(A_DOSED_AT + timedelta(days=2))
    anaphylaxis = make_adverse_event(subject=a, onset_date=date(2026, 1, 11), term="anaphylaxis", grade=3)
    clock(REJECTED_AT)
    safety_services.dlt_adjudicate(
        actor=src[0], ae=anaphylaxis, decision="reject", reason="Premedication reaction", password=PASSWORD
    )
    clock(ESCALATED_AT)
    src_decide(src, decision="escalate", dose_level=2, on=ESCALATED_AT)

    staff = api_client_for(INVESTIGATOR, trial)
    clock(REGISTERED_AT)
    b = make_subject(site=trial)
    clock(CONSENT_AT)
    make_consent(subject=b, signed_at=CONSENT_AT, actor=staff.user)
    clock(SCREENING_AT)
    screening = make_screening(subject=b, document=APPENDIX_A, actor=staff.user)
    clock(SIGNING_AT)
    enrollment_services.eligibility_sign(actor=staff.user, screening=screening, password=PASSWORD)
    clock(ENROLLING_AT)
    journey.subject_enroll(actor=staff.user, subject=b)
    assert staff.post(url(b, "schedule"), {"planned_at": PLANNED_AT.isoformat()}, format="json").status_code == 201
    clock(D_MINUS_1_NOON)
    body = {"drawn_at": D_MINUS_1_DRAW.isoformat(), "platelets": "72", "bleeding": False}
    assert staff.post(url(b, "reconfirmation"), body, format="json").status_code == 201
    return {"a": a, "b": b, "anaphylaxis": anaphylaxis, "staff": staff}


def readjudicate_as_dlt(story, src, clock) -> None:
    clock(READJUDICATED_AT)
    safety_services.dlt_adjudicate(
        actor=src[1],
        ae=story["anaphylaxis"],
        decision="confirm",
        reason="Anaphylaxis to the product",
        reason_for_change="Allergy work-up: the premedication was not given",
        password=PASSWORD,
    )


def written(subject) -> dict:
    plan = InfusionPlan.objects.get(subject=subject)
    return {
        "plan": (plan.status, plan.planned_at),
        "reconfirmations": Reconfirmation.objects.filter(plan__subject=subject).count(),
        "assessments": PreInfusionAssessment.objects.filter(plan__subject=subject).count(),
        "infusions": Infusion.objects.filter(subject=subject).count(),
        "slots": list(DoseSlot.objects.filter(subject=subject).values_list("dose_level__level", "status")),
    }


BEFORE = {
    "plan": ("scheduled", PLANNED_AT),
    "reconfirmations": 1,
    "assessments": 0,
    "infusions": 0,
    "slots": [(2, "claimed")],
}


def test_the_re_adjudication_pauses_every_dosing_step_at_level_2(story, src, clock):
    # given: the live path is "1N" and B is between D−1 and D0 at level 2
    b, staff = story["b"], story["staff"]
    assert dosing_selectors.recommendation(protocol_current(), now=READJUDICATED_AT).path == "1GNN"

    # when: A's anaphylaxis is re-adjudicated as a DLT
    readjudicate_as_dlt(story, src, clock)

    # then: the engine asks for level 1, and each of B's dosing steps at level 2 answers 409, writing nothing
    live = dosing_selectors.recommendation(protocol_current(), now=READJUDICATED_AT)
    assert (live.path, live.decision.action, live.decision.dose_level, live.decision.subjects) == (
        "1TNN",
        "enroll",
        1,
        3,
    )
    reconfirmation = {"drawn_at": (READJUDICATED_AT - timedelta(minutes=5)).isoformat(), "platelets": "70"}
    response = staff.post(url(b, "reconfirmation"), {**reconfirmation, "bleeding": False}, format="json")
    assert (response.status_code, response.json()) == refused("The D−1 reconfirmation", AT_LEVEL_2)
    reschedule = {"planned_at": (PLANNED_AT + timedelta(days=1)).isoformat(), "reason": "Patient asked"}
    response = staff.post(url(b, "reschedule"), reschedule, format="json")
    assert (response.status_code, response.json()) == refused("Rescheduling the infusion", AT_LEVEL_2)
    clock(D0_MORNING)
    response = staff.post(url(b, "assessment"), ASSESSMENT, format="json")
    assert (response.status_code, response.json()) == refused("The D0 pre-infusion assessment", AT_LEVEL_2)
    clock(ENDED_AT + timedelta(hours=1))
    response = staff.post(url(b, "infusion"), INFUSION, format="json")
    assert (response.status_code, response.json()) == refused("The infusion", AT_LEVEL_2)
    assert written(b) == BEFORE


def test_the_paused_subject_is_shown_blocked_and_the_src_alert_is_due(story, src, clock, api_client_for, trial):
    readjudicate_as_dlt(story, src, clock)
    clock(D0_MORNING)

    status = api_client_for(MONITOR).get("/api/v1/escalation/status/").json()
    today = story["staff"].get("/api/v1/dosing/today/").json()
    dosing_day = story["staff"].get(url(story["b"])).json()
    due = [r.occasion for r in safety_selectors.reminders_due(now=D0_MORNING)]

    assert status["paused_subjects"] == [{"study_number": "S-BJ01-004", "dose_level": 2, "reason": AT_LEVEL_2}]
    assert [(row["subject"], row["day"], row["blocked"]) for row in today["rows"]] == [("S-BJ01-004", "D0", AT_LEVEL_2)]
    assert dosing_day["blocked"] == AT_LEVEL_2
    assert dosing_day["missing"][0] == f"Dosing paused: {AT_LEVEL_2}"
    assert [o.key for o in due if o.kind == ReminderKind.SRC_DECISION_DUE] == ["escalation:enroll:L1:1TNN"]


def test_a_signed_de_escalation_closes_level_2_and_the_slot_moves_to_level_1(story, src, clock, api_client_for):
    b, staff = story["b"], story["staff"]
    readjudicate_as_dlt(story, src, clock)

    # when: the SRC de-escalates to level 1 on D0 afternoon
    clock(DE_ESCALATED_AT)
    src_decide(src, decision="de_escalate", dose_level=1, on=DE_ESCALATED_AT)

    # then: level 2 is closed and B's steps there are still refused, now because of that
    assert dict(DoseLevel.objects.values_list("level", "status")) == {1: "open", 2: "closed", 3: "not_open"}
    response = staff.post(url(b, "assessment"), ASSESSMENT, format="json")
    assert (response.status_code, response.json()) == refused("The D0 pre-infusion assessment", LEVEL_2_CLOSED)
    assert written(b) == BEFORE

    # when: the slot is moved to level 1 with a reason
    response = staff.post(url(b, "slot-move"), {"reason": "SRC de-escalated to level 1"}, format="json")

    # then: B holds a level 1 slot, the level 2 plan is cancelled, and the infusion is scheduled again
    assert response.status_code == 200, response.json()
    assert response.json()["missing"] == ["Schedule the infusion."]
    assert written(b) | {"plan": InfusionPlan.objects.get(subject=b).status} == {
        **BEFORE,
        "plan": "cancelled",
        "slots": [(2, "released"), (1, "claimed")],
    }
    released = DoseSlot.objects.get(subject=b, dose_level__level=2)
    assert released.release_reason == "Slot moved from L2 to L1: SRC de-escalated to level 1"


def test_a_slot_at_the_open_level_is_not_moved(story, clock):
    response = story["staff"].post(url(story["b"], "slot-move"), {"reason": "By mistake"}, format="json")

    assert (response.status_code, response.json()) == (
        409,
        {"detail": "S-BJ01-004's slot is already at the open level 2: there is nothing to move.", "errors": {}},
    )
    assert written(story["b"]) == BEFORE


def test_a_slot_move_needs_a_reason_and_the_role(story, api_client_for, trial):
    b = story["b"]

    blank = story["staff"].post(url(b, "slot-move"), {"reason": ""}, format="json")
    monitor = api_client_for(MONITOR).post(url(b, "slot-move"), {"reason": "x"}, format="json")

    assert (blank.status_code, blank.json()["errors"]) == (400, {"reason": ["This field may not be blank."]})
    assert monitor.status_code == 403
    assert written(b) == BEFORE


def test_the_admin_moves_the_slot_with_a_reason_and_shows_the_pause(story, src, clock, client):
    b = story["b"]
    readjudicate_as_dlt(story, src, clock)
    clock(DE_ESCALATED_AT - timedelta(hours=1))
    client.force_login(story["staff"].user)
    status_page = client.get("/admin/dosing/doselevel/status/").content.decode()
    src_decide(src, decision="de_escalate", dose_level=1, on=DE_ESCALATED_AT - timedelta(hours=1))
    clock(DE_ESCALATED_AT)
    client.logout()  # a new session: the clock moved past the idle timeout
    client.force_login(story["staff"].user)
    action = {"action": "move_to_open_level", "_selected_action": [DoseSlot.objects.get(subject=b).pk]}

    asked = client.post("/admin/dosing/doseslot/", action)
    moved = client.post("/admin/dosing/doseslot/", {**action, "apply": "1", "reason": "SRC de-escalated"}, follow=True)

    assert f"<strong>S-BJ01-004</strong> (level 2): {AT_LEVEL_2}".replace("'", "&#x27;") in status_page
    assert 'name="reason"' in asked.content.decode()
    assert "S-BJ01-004: moved to L1; schedule the infusion again" in moved.content.decode()
    assert list(DoseSlot.objects.filter(subject=b).values_list("dose_level__level", "status").order_by("pk")) == [
        (2, "released"),
        (1, "claimed"),
    ]
