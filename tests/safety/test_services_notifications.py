"""The reminder sweep: who is told what, when (site-local), exactly once; date changes cancel what no longer applies."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ctit_trial.audit import save_audited, system_actor
from enrollment.models import Subject, SubjectIdentity
from safety import selectors, services
from safety.models import Notification
from tests.factories import PASSWORD, make_adverse_event, make_infusion, make_visit_schedule, set_open_level
from tests.safety.reminder_world import build_world, enrolled_subject, make_plan, move_plan, set_status

pytestmark = pytest.mark.django_db
PLANNED_AT = datetime(2030, 3, 11, 1, 0, tzinfo=UTC)  # 09:00 on 11 March in Shanghai: D−1 = 10 March
NAUSEA = {"term": None, "other_term": "Nausea", "other_meddra_code": "10028813"}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def at(time_machine):
    """at(instant): stop the clock there and return the instant."""

    def move(instant: datetime) -> datetime:
        time_machine.move_to(instant, tick=False)
        return instant

    move(utc(2030, 3, 1))
    return move


@pytest.fixture
def world(at):
    return build_world()


def sweep(instant: datetime) -> list[tuple[str, str]]:
    """Run the sweep at an instant; the (kind, recipient) of each row it wrote."""
    ids = services.notifications_sweep(now=instant)
    return list(Notification.objects.filter(pk__in=ids).order_by("pk").values_list("kind", "recipient_email"))


def deliver_pending(now: datetime) -> list[str]:
    """Deliver every pending row in order; the status each ends in."""
    pending = Notification.objects.filter(status="pending").order_by("pk").values_list("pk", flat=True)
    return [services.notification_deliver(notification_id=pk, now=now) for pk in list(pending)]


BJ_TEAM = ["coordinator.bj@example.org", "investigator.bj@example.org"]


def test_d_minus_1_reminders_reach_the_shanghai_team_once_each_at_local_times(world, at):
    make_plan(enrolled_subject(world.shanghai), PLANNED_AT)
    written = {}
    for instant in (
        utc(2030, 3, 8, 23, 59),  # 07:59 on D−2
        utc(2030, 3, 9, 0, 0),  # 08:00 on D−2
        utc(2030, 3, 9, 0, 5),  # the next sweep
        utc(2030, 3, 10, 0, 0),  # 08:00 on D−1
        utc(2030, 3, 10, 8, 0),  # 16:00 cut-off, no result
    ):
        written[at(instant)] = sweep(instant)
        deliver_pending(instant)

    assert list(written.values()) == [
        [],
        [("d_minus_1_draw_tomorrow", email) for email in BJ_TEAM],
        [],
        [("d_minus_1_morning", email) for email in BJ_TEAM],
        [("reconfirmation_missing", email) for email in BJ_TEAM],
    ]
    assert [(message.to, message.subject) for message in mail.outbox] == [
        (["coordinator.bj@example.org"], "[XJ-MK-002] S-BJ01-001: D−1 platelet count tomorrow, 2030-03-10"),
        (["investigator.bj@example.org"], "[XJ-MK-002] S-BJ01-001: D−1 platelet count tomorrow, 2030-03-10"),
        (
            ["coordinator.bj@example.org"],
            "[XJ-MK-002] S-BJ01-001: D−1 platelet count today, result by 2030-03-10 16:00 (Asia/Shanghai, UTC+08:00)",
        ),
        (
            ["investigator.bj@example.org"],
            "[XJ-MK-002] S-BJ01-001: D−1 platelet count today, result by 2030-03-10 16:00 (Asia/Shanghai, UTC+08:00)",
        ),
        (
            ["coordinator.bj@example.org"],
            "[XJ-MK-002] S-BJ01-001: no D−1 platelet result recorded by 2030-03-10 16:00 (Asia/Shanghai, UTC+08:00)",
        ),
        (
            ["investigator.bj@example.org"],
            "[XJ-MK-002] S-BJ01-001: no D−1 platelet result recorded by 2030-03-10 16:00 (Asia/Shanghai, UTC+08:00)",
        ),
    ]
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_the_email_names_the_study_number_local_due_time_and_admin_link_never_identifiers(world, at):
    subject = enrolled_subject(world.shanghai)
    identity = SubjectIdentity(subject=subject, full_name="Zhang Wei", national_id="110101199003071234", phone="138")
    save_audited(identity, actor=system_actor(), reason="test set-up")
    make_plan(subject, PLANNED_AT)
    now = at(utc(2030, 3, 10, 0, 0))
    sweep(now)

    deliver_pending(now)

    message = mail.outbox[0]
    row = Notification.objects.get(recipient_email="coordinator.bj@example.org")
    html = message.alternatives[0][0]
    assert message.extra_headers["Message-ID"] == f"<notification-{row.pk}@ctit-trial.local>"
    assert "Today, 2030-03-10, is D−1 for S-BJ01-001" in message.body
    assert "Infusion: 2030-03-11 09:00 (Asia/Shanghai, UTC+08:00) (D0 2030-03-11)" in message.body
    assert "Reminder: 2030-03-10 08:00 (Asia/Shanghai, UTC+08:00)" in message.body
    assert "Subject:  S-BJ01-001 at site BJ01 (Beijing)" in message.body
    assert (
        f"\n\nRecord the D−1 platelet reconfirmation: http://127.0.0.1:8000/admin/dosing/reconfirmation/add/?subject={subject.pk}\n"
        in message.body
    )
    assert message.body.startswith("Dear Coordinator Tester,\n")
    assert "<td>2030-03-10 08:00 (Asia/Shanghai, UTC+08:00)</td>" in html
    for identifier in ("Zhang Wei", "110101199003071234", "138"):
        assert identifier not in message.body + html + message.subject


def test_a_reschedule_to_another_day_cancels_pending_reminders_and_the_new_d_minus_1_gets_its_own(world, at):
    plan = make_plan(enrolled_subject(world.shanghai), PLANNED_AT)
    sweep(at(utc(2030, 3, 9, 0, 0)))  # "draw tomorrow" pending, not yet sent

    move_plan(plan, utc(2030, 3, 13, 1, 0))  # D−1 is now 12 March

    assert (
        list(Notification.objects.values_list("status", "cancelled_reason"))
        == [("cancelled", "Infusion rescheduled: D−1 moved to 2030-03-12")] * 2
    )
    assert sweep(at(utc(2030, 3, 11, 0, 0))) == [("d_minus_1_draw_tomorrow", email) for email in BJ_TEAM]
    assert set(Notification.objects.filter(status="pending").values_list("occasion", flat=True)) == {
        f"plan:{plan.pk}:d-1:2030-03-12"
    }


def test_a_reschedule_within_the_same_d_minus_1_keeps_the_pending_reminders(world, at):
    plan = make_plan(enrolled_subject(world.shanghai), PLANNED_AT)
    sweep(at(utc(2030, 3, 9, 0, 0)))

    move_plan(plan, PLANNED_AT + timedelta(hours=3))  # 12:00 the same D0

    assert list(Notification.objects.values_list("status", flat=True)) == ["pending", "pending"]
    assert deliver_pending(utc(2030, 3, 9, 0, 1)) == ["sent", "sent"]


def test_nothing_is_swept_or_sent_for_a_subject_off_study(world, at):
    subject = enrolled_subject(world.shanghai)
    make_plan(subject, PLANNED_AT)
    sweep(at(utc(2030, 3, 9, 0, 0)))

    set_status(subject, Subject.Status.WITHDRAWN)

    assert sweep(at(utc(2030, 3, 10, 0, 0))) == []
    assert deliver_pending(utc(2030, 3, 10, 0, 0)) == ["cancelled", "cancelled"]
    assert set(Notification.objects.values_list("cancelled_reason", flat=True)) == {"S-BJ01-001 is withdrawn"}
    assert mail.outbox == []


def test_a_stale_reminder_left_by_an_outage_is_cancelled_not_sent(world, at):
    make_plan(enrolled_subject(world.shanghai), PLANNED_AT)
    sweep(at(utc(2030, 3, 9, 0, 0)))

    statuses = deliver_pending(at(utc(2030, 3, 10, 0, 0)))  # delivered only once D−1 has begun

    assert statuses == ["cancelled", "cancelled"]
    assert (
        Notification.objects.first().cancelled_reason
        == "no longer timely: a later reminder took over at 2030-03-09 16:00 UTC"  # 00:00 on D−1 in Shanghai
    )


@pytest.fixture
def berlin_visits(world, at):
    """A subject dosed at 09:00 on 1 June 2030 in Berlin (D0 = 1 June), with its D0…D30 schedule."""
    at(utc(2030, 6, 1, 7, 30))
    infusion = make_infusion(subject=enrolled_subject(world.berlin), level=1, started_at=utc(2030, 6, 1, 7, 0))
    make_visit_schedule(infusion=infusion)
    return {visit.definition.code: visit for visit in selectors.visits_of(infusion.subject)}


BE_TEAM = ["coordinator.be@example.org", "investigator.be@example.org"]


def test_visit_reminders_follow_the_window_in_berlin_time(berlin_visits, at):
    d7 = berlin_visits["D7"]  # window 7–9 June, target 8 June

    moments = [utc(2030, 6, 7, 5, 59), utc(2030, 6, 7, 6, 0), utc(2030, 6, 8, 6, 0), utc(2030, 6, 10, 6, 0)]
    written = []
    for moment in moments:
        sweep(at(moment))
        rows = Notification.objects.filter(
            object_ref=f"visit:{d7.pk}", due_at__lte=moment, due_at__gt=moment - timedelta(hours=1)
        )
        written.append(list(rows.order_by("pk").values_list("kind", flat=True)))

    assert (d7.window_earliest, d7.target_date, d7.window_latest) == (
        date(2030, 6, 7),
        date(2030, 6, 8),
        date(2030, 6, 9),
    )
    assert written == [
        [],
        ["visit_window_open"] * 2,  # 08:00 CEST on 7 June
        ["visit_target_day"] * 2,
        ["visit_overdue"] * 2,  # 08:00 on 10 June, the window having closed on 9 June
    ]
    d7_rows = Notification.objects.filter(object_ref=f"visit:{d7.pk}")
    assert set(d7_rows.values_list("recipient_email", "visit_id", "subject_id")) == {
        (email, d7.pk, d7.subject_id) for email in BE_TEAM
    }


def test_recording_a_visit_cancels_its_pending_reminders_in_the_same_transaction(berlin_visits, world, at):
    d7 = berlin_visits["D7"]
    sweep(at(utc(2030, 6, 8, 6, 0)))  # target day reminders pending

    services.visit_record(
        actor=world.users["coordinator-be"],
        visit=d7,
        visit_date=date(2030, 6, 8),
        platelets=Decimal("71"),
        ae_review_done=True,
    )

    assert (
        list(Notification.objects.filter(object_ref=f"visit:{d7.pk}").values_list("status", "cancelled_reason"))
        == [("cancelled", "Visit recorded: the D7 visit is done on 2030-06-08")] * 2
    )
    assert sweep(at(utc(2030, 6, 10, 6, 0))) == []  # no overdue alert for a recorded visit


@pytest.fixture
def sae(world, at):
    at(utc(2030, 6, 2, 0, 0))
    subject = enrolled_subject(world.shanghai)
    return make_adverse_event(
        subject=subject,
        onset_date=date(2030, 6, 1),
        actor=world.users["investigator-bj"],
        serious=True,
        sae_hospitalization=True,
        awareness_at=utc(2030, 6, 1, 22, 30),  # 06:30 on 2 June in Shanghai
        grade=3,
        **NAUSEA,
    )


def test_sae_alerts_reach_the_site_investigator_and_sponsor_at_12_20_and_24_hours(sae, at):
    audience = ["investigator.bj@example.org", "sponsor@example.org"]

    written = [
        sweep(at(moment)) for moment in (utc(2030, 6, 2, 10, 29), utc(2030, 6, 2, 10, 30), utc(2030, 6, 2, 18, 30))
    ]
    written.append(sweep(at(utc(2030, 6, 2, 22, 30))))
    deliver_pending(utc(2030, 6, 2, 22, 30))

    assert written == [
        [],
        [("sae_reminder", email) for email in audience],
        [("sae_reminder", email) for email in audience],
        [("sae_overdue", email) for email in audience],
    ]
    assert [message.subject for message in mail.outbox] == [
        "[XJ-MK-002] S-BJ01-001: SAE report to the sponsor OVERDUE since 2030-06-03 06:30 (Asia/Shanghai, UTC+08:00)"
    ] * 2
    assert (
        list(Notification.objects.order_by("pk").values_list("status", flat=True)) == ["cancelled"] * 4 + ["sent"] * 2
    )


def test_reporting_the_sae_cancels_its_pending_alerts(sae, world, at):
    sweep(at(utc(2030, 6, 2, 10, 30)))

    services.sae_report_record(
        actor=world.users["investigator-bj"], ae=sae, reported_at=utc(2030, 6, 2, 10, 0), password=PASSWORD
    )

    assert set(Notification.objects.values_list("status", "cancelled_reason")) == {
        ("cancelled", "SAE reported to the sponsor: the SAE was reported to the sponsor at 2030-06-02 10:00 UTC")
    }
    assert sweep(at(utc(2030, 6, 3, 0, 0))) == []


def test_a_dlt_candidate_alerts_the_src_until_it_is_adjudicated(world, at):
    at(utc(2030, 6, 3, 2, 0))
    subject = make_infusion(subject=enrolled_subject(world.shanghai), level=1, started_at=utc(2030, 6, 1, 1, 0)).subject
    ae = make_adverse_event(
        subject=subject, onset_date=date(2030, 6, 2), actor=world.users["investigator-bj"], grade=3, **NAUSEA
    )

    first, again = sweep(at(utc(2030, 6, 3, 2, 5))), sweep(at(utc(2030, 6, 3, 2, 10)))
    services.dlt_adjudicate(
        actor=world.users["src"], ae=ae, decision="confirm", reason="Grade 3 nausea", password=PASSWORD
    )

    assert (first, again) == (
        [("dlt_candidate", "src@example.org"), ("dlt_candidate", "investigator.bj@example.org")],
        [],
    )
    rows = Notification.objects.order_by("pk")
    assert [(row.status, row.cancelled_reason, row.site) for row in rows] == [
        (
            "cancelled",
            "DLT candidate adjudicated: DLT confirmed: the DLT candidate is adjudicated (confirmed)",
            world.shanghai,  # the subject's site sets the local time of the message, for the SRC member too
        )
    ] * 2


def test_src_decision_due_when_level_1_completes_its_window_without_dlt(world, at):
    set_open_level(1)
    at(utc(2030, 5, 1))
    make_infusion(subject=enrolled_subject(world.shanghai), level=1, started_at=utc(2030, 5, 1, 1, 0))

    # D0 = 1 May in Shanghai; the DLT window includes D28 = 29 May; it is complete from 00:00 on 30 May (16:00 UTC).
    before, after = sweep(at(utc(2030, 5, 29, 15, 59))), sweep(at(utc(2030, 5, 29, 16, 0)))
    deliver_pending(utc(2030, 5, 29, 16, 0))

    assert (before, after) == ([], [("src_decision_due", "src@example.org")])
    row = Notification.objects.get()
    assert (row.occasion, row.site) == ("escalation:escalate:L2:1N", world.berlin)  # the SRC member's site
    assert mail.outbox[0].subject == "[XJ-MK-002] SRC decision due: the engine recommends escalate (level 2)"
    assert "Reminder: 2030-05-29 18:00 (Europe/Berlin, UTC+02:00)" in mail.outbox[0].body


def test_two_sweeps_write_each_row_once(world, at):
    make_plan(enrolled_subject(world.shanghai), PLANNED_AT)
    now = at(utc(2030, 3, 9, 0, 0))

    first, second = services.notifications_sweep(now=now), services.notifications_sweep(now=now)

    assert (len(first), second, Notification.objects.count()) == (2, [], 2)


def test_the_sweep_reads_a_fixed_number_of_queries_whatever_the_number_of_subjects(world, at):
    def queries_for_sweep(instant) -> int:
        with CaptureQueriesContext(connection) as captured:
            services.notifications_sweep(now=instant)
        return len(captured)

    make_plan(enrolled_subject(world.shanghai), PLANNED_AT)
    one = queries_for_sweep(at(utc(2030, 3, 9, 0, 0)))
    for _ in range(5):
        make_plan(enrolled_subject(world.shanghai), PLANNED_AT)
        make_plan(enrolled_subject(world.berlin), PLANNED_AT)
    eleven = queries_for_sweep(at(utc(2030, 3, 10, 0, 0)))

    assert Notification.objects.count() == 2 + 12  # D−1 has begun everywhere: "draw tomorrow" is stale, not written
    assert one == eleven == 16  # a savepoint, 11 reads, the keys already written, 1 insert, its ids, release


def test_an_unreadable_escalation_state_does_not_hold_back_the_other_reminders(world, at, monkeypatch, caplog):
    def broken(protocol, *, now):
        raise ValueError("engine configuration broken")

    make_plan(enrolled_subject(world.shanghai), PLANNED_AT)
    monkeypatch.setattr("safety.selectors.reminders.escalation_facts", broken)

    written = sweep(at(utc(2030, 3, 9, 0, 0)))

    assert written == [("d_minus_1_draw_tomorrow", email) for email in BJ_TEAM]
    assert "Escalation state unreadable: no SRC reminder in this sweep" in caplog.text
