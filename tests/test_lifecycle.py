"""A subject leaving the trial (issue 12, defect 7): withdrawal, loss to follow-up, death, investigator decision.

The subject is enrolled and dosed through the services on the Appendix A dates at BJ01 (UTC+8): D0 is 10 March
2026, the DLT window's last day (D28) is 7 April, so the window is complete on 8 April (D29).
"""

from datetime import UTC, date, datetime, timedelta

import pytest

from dosing import selectors as dosing_selectors
from dosing.models import DoseSlot, InfusionPlan
from enrollment.models import Discontinuation, Subject
from enrollment.roles import DATA_MANAGER, INVESTIGATOR, MONITOR, SRC_MEMBER, STUDY_COORDINATOR
from enrollment.selectors import protocol_current
from safety import services as safety_services
from safety.models import Notification, Visit
from tests.dosing import conftest as dosing_day
from tests.factories import PASSWORD, make_adverse_event, make_site, make_staff_user, make_subject

pytestmark = pytest.mark.django_db

# The dosing day's fixtures (tests/dosing/conftest.py): enrolled on 5 March, infused at 09:00 on 10 March.
staff, enrolled, scheduled = dosing_day.staff, dosing_day.enrolled, dosing_day.scheduled
cleared, assessed, infused = dosing_day.cleared, dosing_day.assessed, dosing_day.infused

D10_NOON = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)  # 12:00 on D10 in Beijing
D28_EVENING = datetime(2026, 4, 7, 12, 0, tzinfo=UTC)  # 20:00 on D28, the window's last day
D29_MORNING = datetime(2026, 4, 8, 2, 0, tzinfo=UTC)  # 10:00 on D29: the window is complete
LOST = {
    "kind": "lost_to_follow_up",
    "left_at": "2026-03-20T09:00:00+08:00",
    "reason": "No answer to calls or letters since the D7 visit.",
}


def discontinuation_url(subject) -> str:
    return f"/api/v1/subjects/{subject.pk}/discontinuation/"


def live():
    recommendation = dosing_selectors.recommendation(protocol_current(), now=datetime.now(tz=UTC))
    return recommendation.path, recommendation.decision.to_dict()


# --- (a) the example: lost on D10 without a DLT is X, and replaced at level 1


def test_a_subject_lost_to_follow_up_on_d10_is_not_evaluable_and_is_replaced(infused, staff, clock):
    # given: dosed at level 1, lost to follow-up on D10 with no DLT
    clock(D10_NOON)
    response = staff.post(discontinuation_url(infused), LOST, format="json")
    assert response.status_code == 201, response.json()

    # when: the 28-day window is over
    clock(D29_MORNING)

    # then: the subject is X, not N, and the engine asks for one more subject at level 1
    assert live() == (
        "1X",
        {
            "action": "enroll",
            "dose_level": 1,
            "subjects": 1,
            "reason": "0 DLT and no related grade ≥2 AE in 0 evaluable subjects at level 1 (1 not evaluable, not "
            "counted): accelerated titration needs 1 evaluable subject",
        },
    )
    status = staff.get("/api/v1/escalation/status/").json()
    assert (status["path"], status["recommendation"]["action"], status["recommendation"]["subjects"]) == (
        "1X",
        "enroll",
        1,
    )


def test_the_lost_subject_is_withdrawn_and_its_remaining_visits_are_closed(infused, staff, clock):
    clock(D10_NOON)

    response = staff.post(discontinuation_url(infused), LOST, format="json")

    assert response.json() == {
        "id": Discontinuation.objects.get().pk,
        "subject": "S-BJ01-001",
        "kind": "lost_to_follow_up",
        "kind_display": "Lost to follow-up",
        "left_at": "2026-03-20T01:00:00Z",
        "left_on": "2026-03-20",
        "reason": "No answer to calls or letters since the D7 visit.",
        "recorded_by": staff.user.username,
        "recorded_at": "2026-03-20T04:00:00Z",
    }
    infused.refresh_from_db()
    assert infused.status == Subject.Status.WITHDRAWN
    assert infused.history.first().history_change_reason == (
        "Lost to follow-up: No answer to calls or letters since the D7 visit."
    )
    visits = {visit.definition.code: visit.status for visit in Visit.objects.filter(subject=infused)}
    assert visits == {
        "D0": "done",
        "D2": "missed",
        "D3": "missed",
        "D7": "missed",
        "D14": "missed",
        "D28": "missed",
        "D30": "missed",
    }
    d14 = Visit.objects.get(subject=infused, definition__code="D14")
    assert d14.history.first().history_change_reason == (
        "Not done, the subject left the trial: Lost to follow-up: No answer to calls or letters since the D7 visit."
    )
    clock(D29_MORNING)
    assert staff.get("/api/v1/visits/overdue/").json()["results"] == []
    detail = staff.get(f"/api/v1/subjects/{infused.pk}/").json()
    assert (detail["status"], detail["discontinuation"]["kind"], detail["discontinuation"]["left_on"]) == (
        "withdrawn",
        "lost_to_follow_up",
        "2026-03-20",
    )


# --- (b) a DLT before leaving still counts


def test_a_dlt_confirmed_before_withdrawal_still_counts(infused, staff, clock, trial):
    clock(datetime(2026, 3, 13, 2, 0, tzinfo=UTC))
    event = make_adverse_event(subject=infused, onset_date=date(2026, 3, 12), term="anaphylaxis", grade=3)
    member = make_staff_user(role_key=SRC_MEMBER, sites=[trial])
    safety_services.dlt_adjudicate(actor=member, ae=event, decision="confirm", reason="Anaphylaxis", password=PASSWORD)
    clock(D10_NOON)
    body = {**LOST, "kind": "withdrawal_of_consent", "reason": "Does not want further visits."}
    assert staff.post(discontinuation_url(infused), body, format="json").status_code == 201

    clock(D29_MORNING)

    path, decision = live()
    assert (path, decision["action"], decision["dose_level"], decision["subjects"]) == ("1T", "enroll", 1, 2)


# --- (c) leaving after the window was completed keeps the subject evaluable


@pytest.mark.parametrize(
    ("left_at", "path", "action"),
    [
        ("2026-04-07T20:00:00+08:00", "1X", "enroll"),  # on D28, the window's last day: not completed
        ("2026-04-08T09:00:00+08:00", "1N", "escalate"),  # on D29: completed without a DLT
    ],
)
def test_leaving_after_the_window_was_completed_keeps_n(infused, staff, clock, left_at, path, action):
    clock(D29_MORNING)
    body = {"kind": "withdrawal_of_consent", "left_at": left_at, "reason": "Moving abroad."}

    assert staff.post(discontinuation_url(infused), body, format="json").status_code == 201

    assert (live()[0], live()[1]["action"]) == (path, action)


# --- (d) enrolled, not yet dosed: the plan is cancelled, the slot released, the reminders cancelled

DRAW_TOMORROW_SWEEP = datetime(2026, 3, 8, 0, 30, tzinfo=UTC)  # 08:30 on D−2: "draw tomorrow" is due


def test_withdrawal_before_dosing_cancels_the_plan_releases_the_slot_and_the_reminders(scheduled, staff, clock):
    clock(DRAW_TOMORROW_SWEEP)
    assert safety_services.notifications_sweep(now=DRAW_TOMORROW_SWEEP) != []
    body = {"kind": "withdrawal_of_consent", "left_at": "2026-03-08T08:00:00+08:00", "reason": "Changed her mind."}

    response = staff.post(discontinuation_url(scheduled), body, format="json")

    assert response.status_code == 201
    plan, slot = InfusionPlan.objects.get(subject=scheduled), DoseSlot.objects.get(subject=scheduled)
    why = "Subject left before the infusion: Withdrawal of consent: Changed her mind."
    assert (plan.status, plan.history.first().history_change_reason) == ("cancelled", why)
    assert (slot.status, slot.release_reason, slot.released_at) == ("released", why, DRAW_TOMORROW_SWEEP)
    assert dosing_selectors.pending_slot_count(slot.dose_level) == 0
    assert set(Notification.objects.values_list("status", "cancelled_reason")) == {
        ("cancelled", "Withdrawal of consent: Changed her mind.: S-BJ01-001 is withdrawn")
    }
    scheduled.refresh_from_db()
    assert scheduled.status == "withdrawn"
    assert live() == (
        "",
        {
            "action": "enroll",
            "dose_level": 1,
            "subjects": 1,
            "reason": "No subject dosed at level 1: dose the first subject (accelerated titration)",
        },
    )


def test_withdrawal_of_an_enrolled_subject_not_yet_scheduled_releases_the_slot(enrolled, staff):
    body = {"kind": "investigator_decision", "left_at": "2026-03-05T10:00:00+08:00", "reason": "New brain metastasis."}

    assert staff.post(discontinuation_url(enrolled), body, format="json").status_code == 201

    assert DoseSlot.objects.get(subject=enrolled).status == "released"
    assert InfusionPlan.objects.filter(subject=enrolled).count() == 0


# --- (e) the API's refusals: nothing is written


def assert_nothing_written(subject, status: str) -> None:
    subject.refresh_from_db()
    assert (Discontinuation.objects.count(), subject.status) == (0, status)
    assert Visit.objects.filter(subject=subject, status="missed").count() == 0


def test_each_bad_field_is_named(infused, staff, clock):
    clock(D10_NOON)
    body = {"kind": "moved_away", "left_at": "2026-03-20T09:00:00", "reason": ""}

    response = staff.post(discontinuation_url(infused), body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "kind": ['"moved_away" is not a valid choice.'],
        "left_at": ["Give the instant with its UTC offset, e.g. 2026-03-02T10:00:00+08:00."],
        "reason": ["Give the reason the subject left the trial."],
    }
    assert_nothing_written(infused, "dosed")


@pytest.mark.parametrize(
    ("left_at", "message"),
    [
        ("2026-03-20T13:00:00+08:00", "The time the subject left cannot be in the future."),
        (
            "2026-03-10T08:59:00+08:00",
            "The subject was dosed at 2026-03-10T09:00+08:00: it cannot have left before the infusion.",
        ),
        ("2026-03-02T09:00:00+08:00", "The subject cannot have left before consenting (2026-03-02T10:00+08:00)."),
    ],
)
def test_an_impossible_time_of_leaving_is_refused_on_left_at(infused, staff, clock, left_at, message):
    clock(D10_NOON)

    response = staff.post(discontinuation_url(infused), {**LOST, "left_at": left_at}, format="json")

    assert (response.status_code, response.json()) == (400, {"detail": message, "errors": {"left_at": [message]}})
    assert_nothing_written(infused, "dosed")


def test_a_second_discontinuation_is_a_conflict(infused, staff, clock):
    clock(D10_NOON)
    assert staff.post(discontinuation_url(infused), LOST, format="json").status_code == 201

    response = staff.post(discontinuation_url(infused), {**LOST, "kind": "withdrawal_of_consent"}, format="json")

    assert (response.status_code, response.json()["detail"]) == (
        409,
        "S-BJ01-001 has already left the trial: lost to follow-up on 2026-03-20, recorded 2026-03-20 04:00 UTC.",
    )
    assert list(Discontinuation.objects.values_list("kind", flat=True)) == ["lost_to_follow_up"]


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (
            "screening",
            "S-BJ01-001 is in screening: a subject who does not go on to enrollment is recorded as a screen failure, "
            "with the reason.",
        ),
        ("screen_failed", "S-BJ01-001 is a screen failure, not in the trial: there is nothing to discontinue."),
    ],
)
def test_a_subject_not_enrolled_or_dosed_cannot_be_discontinued(trial, api_client_for, clock, status, message):
    clock(D10_NOON)
    subject = make_subject(site=trial)
    Subject.objects.filter(pk=subject.pk).update(status=status, enrolled_at=D10_NOON)  # the state under test
    client = api_client_for(INVESTIGATOR, trial)

    response = client.post(discontinuation_url(subject), LOST, format="json")

    assert (response.status_code, response.json()) == (409, {"detail": message, "errors": {}})
    assert_nothing_written(subject, status)


def test_a_subject_who_completed_the_follow_up_cannot_be_discontinued(infused, staff, clock):
    # A completed subject was dosed: the infusion is on record (the database refuses "completed" without one).
    clock(D10_NOON)
    Subject.objects.filter(pk=infused.pk).update(status="completed")  # the state under test

    response = staff.post(discontinuation_url(infused), LOST, format="json")

    message = "S-BJ01-001 has completed the follow-up (closed out): there is nothing to discontinue."
    assert (response.status_code, response.json()) == (409, {"detail": message, "errors": {}})
    assert_nothing_written(infused, "completed")


@pytest.mark.parametrize("role", [MONITOR, DATA_MANAGER, SRC_MEMBER])
def test_read_only_roles_are_forbidden(infused, api_client_for, trial, clock, role):
    clock(D10_NOON)

    response = api_client_for(role, trial).post(discontinuation_url(infused), LOST, format="json")

    assert (response.status_code, response.json()) == (
        403,
        {"detail": "You do not have permission to perform this action.", "errors": {}},
    )
    assert_nothing_written(infused, "dosed")


def test_another_sites_coordinator_does_not_find_the_subject(infused, api_client_for, clock):
    clock(D10_NOON)
    other = api_client_for(STUDY_COORDINATOR, make_site(code="SH02"))

    response = other.post(discontinuation_url(infused), LOST, format="json")

    assert (response.status_code, response.json()) == (
        404,
        {"detail": "Not found.", "errors": {}},
    )
    assert_nothing_written(infused, "dosed")


def test_the_sites_coordinator_may_record_it(infused, api_client_for, trial, clock):
    clock(D10_NOON)

    response = api_client_for(STUDY_COORDINATOR, trial).post(discontinuation_url(infused), LOST, format="json")

    assert response.status_code == 201


# --- (f) a death needs its fatal AE first


DEATH = {"kind": "death", "left_at": "2026-03-20T07:30:00+08:00", "reason": "Died of intracranial haemorrhage."}


def test_a_death_without_a_fatal_adverse_event_is_refused(infused, staff, clock):
    clock(D10_NOON)

    response = staff.post(discontinuation_url(infused), DEATH, format="json")

    assert (response.status_code, response.json()["detail"]) == (
        409,
        "Record the fatal (grade 5) adverse event of S-BJ01-001 with onset on or before 2026-03-20 first: a death "
        "is a serious adverse event, reported to the sponsor within 24 hours of awareness.",
    )
    assert_nothing_written(infused, "dosed")


def test_a_death_after_its_fatal_adverse_event_is_recorded_and_the_sae_clock_keeps_running(infused, staff, clock):
    clock(D10_NOON)
    fatal = make_adverse_event(
        subject=infused,
        term=None,
        other_term="Intracranial haemorrhage",
        other_meddra_code="10022763",
        onset_date=date(2026, 3, 19),
        end_date=date(2026, 3, 20),
        ongoing=False,
        grade=5,
        outcome="fatal",
        relatedness="unlikely",
    )

    response = staff.post(discontinuation_url(infused), DEATH, format="json")

    assert response.status_code == 201
    fatal.refresh_from_db()
    assert (fatal.serious, fatal.awareness_at) == (True, D10_NOON)
    clock(D10_NOON + timedelta(hours=13))
    safety_services.notifications_sweep(now=D10_NOON + timedelta(hours=13))
    kinds = set(Notification.objects.filter(status="pending").values_list("kind", flat=True))
    assert kinds == {"sae_reminder"}


# --- (g) the admin: the same journey, the same refusals

DISCONTINUATION_ADD = "/admin/enrollment/discontinuation/add/"


def admin_body(subject, *, day: str, time: str, kind: str = "lost_to_follow_up") -> dict:
    """The admin's split date/time widget reads the day and time in UTC, like the other admin forms."""
    return {"subject": subject.pk, "kind": kind, "left_at_0": day, "left_at_1": time, "reason": "No contact."}


def test_the_admin_records_it_through_the_journey(infused, client, trial, clock):
    clock(D10_NOON)
    user = make_staff_user(role_key=INVESTIGATOR, sites=[trial])
    client.force_login(user)

    response = client.post(DISCONTINUATION_ADD, admin_body(infused, day="2026-03-20", time="09:00:00"))

    assert (response.status_code, response["Location"]) == (302, "/admin/enrollment/discontinuation/")
    record = Discontinuation.objects.get()
    assert (record.subject, record.kind, record.left_at, record.recorded_by) == (
        infused,
        "lost_to_follow_up",
        datetime(2026, 3, 20, 1, 0, tzinfo=UTC),
        user,
    )
    infused.refresh_from_db()
    assert infused.status == "withdrawn"
    assert Visit.objects.filter(subject=infused, status="planned").count() == 0


def test_the_admin_shows_the_services_message_instead_of_saving(infused, client, trial, clock):
    clock(D10_NOON)
    client.force_login(make_staff_user(role_key=INVESTIGATOR, sites=[trial]))

    response = client.post(DISCONTINUATION_ADD, admin_body(infused, day="2026-03-20", time="13:00:00"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "left_at": ["The time the subject left cannot be in the future."]
    }
    death = client.post(DISCONTINUATION_ADD, admin_body(infused, day="2026-03-20", time="09:00:00", kind="death"))
    assert death.context["adminform"].form.errors == {
        "__all__": [
            "Record the fatal (grade 5) adverse event of S-BJ01-001 with onset on or before 2026-03-20 first: a "
            "death is a serious adverse event, reported to the sponsor within 24 hours of awareness."
        ]
    }
    assert_nothing_written(infused, "dosed")


def test_the_admin_refuses_the_monitor(infused, client, trial, clock):
    clock(D10_NOON)
    client.force_login(make_staff_user(role_key=MONITOR))

    page = client.get(DISCONTINUATION_ADD)
    post = client.post(DISCONTINUATION_ADD, admin_body(infused, day="2026-03-20", time="09:00:00"))

    assert (page.status_code, post.status_code) == (403, 403)
    assert_nothing_written(infused, "dosed")


def test_the_admin_offers_only_the_users_sites_subjects(infused, client, clock):
    clock(D10_NOON)
    client.force_login(make_staff_user(role_key=INVESTIGATOR, sites=[make_site(code="SH02")]))

    response = client.post(DISCONTINUATION_ADD, admin_body(infused, day="2026-03-20", time="09:00:00"))

    assert response.context["adminform"].form.errors == {
        "subject": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert_nothing_written(infused, "dosed")
