"""When each reminder is due, read in the site's own zone (Beijing): "draw tomorrow" on the day before D−1 at the
morning hour of the protocol, never on D−1 itself; every other kind on its local day and hour."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from enrollment.selectors import protocol_current
from safety import services
from safety.models import Notification
from safety.rules import reminders as rules
from safety.selectors.reminders import reminder_config
from tests.safety.reminder_world import build_world, enrolled_subject, make_plan

BEIJING = ZoneInfo("Asia/Shanghai")
BJ_TEAM = ["coordinator.bj@example.org", "investigator.bj@example.org"]


def beijing(*args) -> datetime:
    """A Beijing wall-clock time as its UTC instant."""
    return datetime(*args, tzinfo=BEIJING).astimezone(UTC)


def local(instant: datetime | None) -> str | None:
    return None if instant is None else f"{instant.astimezone(BEIJING):%Y-%m-%d %H:%M}"


def table(occasions) -> list[tuple[str, str, str | None]]:
    return [(occasion.kind.value, local(occasion.due_at), local(occasion.stale_at)) for occasion in occasions]


@pytest.fixture
def config(db):
    """The seeded protocol's reminder times: the morning reminder at 08:00, the D−1 cut-off at 16:00."""
    from django.core.management import call_command

    call_command("seed", verbosity=0)
    return reminder_config(protocol_current())


def test_the_seeded_reminder_hours_are_working_hours(config):
    assert (f"{config.morning:%H:%M}", f"{config.reconfirmation_cutoff:%H:%M}") == ("08:00", "16:00")
    assert config.visit_overdue_alert_days == 7


def test_every_reminder_kind_is_due_on_its_day_and_hour_in_beijing(config):
    # an infusion planned at 09:00 on 10 June in Beijing: D−1 is 9 June, so "draw tomorrow" is due on 8 June
    plan = rules.PlanFacts(1, BEIJING, date(2026, 6, 9), beijing(2026, 6, 10, 9, 0), reconfirmed=False)
    visit = rules.VisitFacts(2, BEIJING, date(2026, 6, 16), date(2026, 6, 17), date(2026, 6, 18))  # D7 window
    sae = rules.SaeFacts(3, beijing(2026, 6, 12, 22, 15))
    candidate = rules.CandidateFacts(4, invalidated=False, since=beijing(2026, 6, 13, 14, 40))
    escalation = rules.EscalationFacts("escalate", 2, 1, "NNN", beijing(2026, 7, 9, 0, 0))

    occasions = (
        *rules.plan_occasions(plan, config),
        *rules.visit_occasions(visit, config),
        *rules.sae_occasions(sae, config),
        *rules.candidate_occasions(candidate),
        *rules.escalation_occasions(escalation),
    )

    assert table(occasions) == [
        ("d_minus_1_draw_tomorrow", "2026-06-08 08:00", "2026-06-09 00:00"),  # D−2 morning, stale once D−1 begins
        ("d_minus_1_morning", "2026-06-09 08:00", "2026-06-09 16:00"),  # D−1 morning, until the cut-off
        ("reconfirmation_missing", "2026-06-09 16:00", "2026-06-10 09:00"),  # the cut-off, until the infusion
        ("visit_window_open", "2026-06-16 08:00", "2026-06-17 08:00"),
        ("visit_target_day", "2026-06-17 08:00", "2026-06-19 08:00"),
        ("visit_overdue", "2026-06-19 08:00", "2026-06-26 08:00"),  # the morning after the window closed, 7 days
        ("sae_reminder", "2026-06-13 10:15", "2026-06-13 18:15"),  # 12 h after awareness
        ("sae_reminder", "2026-06-13 18:15", "2026-06-13 22:15"),  # 20 h
        ("sae_overdue", "2026-06-13 22:15", None),  # 24 h: the deadline itself
        ("dlt_candidate", "2026-06-13 14:40", None),  # as soon as it is flagged
        ("src_decision_due", "2026-07-09 00:00", None),  # as soon as the engine needs the SRC
    ]


@pytest.fixture
def at(time_machine):
    def move(instant: datetime) -> datetime:
        time_machine.move_to(instant, tick=False)
        return instant

    move(beijing(2026, 6, 1, 9, 0))
    return move


def sweep(instant: datetime) -> list[tuple[str, str, str]]:
    """The sweep at an instant, delivered at once: each row's kind, recipient and Beijing due time."""
    ids = services.notifications_sweep(now=instant)
    for pk in ids:
        services.notification_deliver(notification_id=pk, now=instant)
    rows = Notification.objects.filter(pk__in=ids).order_by("pk")
    return [(row.kind, row.recipient_email, local(row.due_at)) for row in rows]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "planned_at",
    [beijing(2026, 6, 10, 9, 0), beijing(2026, 6, 10, 7, 30)],
    ids=["09:00", "07:30 (the day before in UTC)"],
)
def test_draw_tomorrow_goes_out_on_d_minus_2_in_beijing_and_never_on_d_minus_1(at, planned_at):
    world = build_world()
    make_plan(enrolled_subject(world.shanghai), planned_at)  # D−1 = 9 June in Beijing

    written = {
        "07:59 on D−2": sweep(at(beijing(2026, 6, 8, 7, 59))),
        "08:00 on D−2": sweep(at(beijing(2026, 6, 8, 8, 0))),
        "23:55 on D−2": sweep(at(beijing(2026, 6, 8, 23, 55))),
        "03:06 on D−1": sweep(at(beijing(2026, 6, 9, 3, 6))),
        "08:00 on D−1": sweep(at(beijing(2026, 6, 9, 8, 0))),
    }

    assert written == {
        "07:59 on D−2": [],
        "08:00 on D−2": [("d_minus_1_draw_tomorrow", email, "2026-06-08 08:00") for email in BJ_TEAM],
        "23:55 on D−2": [],
        "03:06 on D−1": [],
        "08:00 on D−1": [("d_minus_1_morning", email, "2026-06-09 08:00") for email in BJ_TEAM],
    }
    assert [message.subject for message in mail.outbox[:2]] == [
        "[XJ-MK-002] S-BJ01-001: D−1 platelet count tomorrow, 2026-06-09"
    ] * 2


@pytest.mark.django_db
def test_a_plan_first_swept_at_03_06_on_d_minus_1_gets_no_draw_tomorrow(at):
    # the sweep did not run on D−2 (an outage, or the plan was made overnight): "tomorrow" would now be wrong
    world = build_world()
    make_plan(enrolled_subject(world.shanghai), beijing(2026, 6, 10, 9, 0))

    first = sweep(at(beijing(2026, 6, 9, 3, 6)))
    morning = sweep(at(beijing(2026, 6, 9, 8, 0)))

    assert first == []
    assert morning == [("d_minus_1_morning", email, "2026-06-09 08:00") for email in BJ_TEAM]
    assert Notification.objects.filter(kind="d_minus_1_draw_tomorrow").count() == 0
    assert [message.subject for message in mail.outbox] == [
        "[XJ-MK-002] S-BJ01-001: D−1 platelet count today, result by 2026-06-09 16:00 (Asia/Shanghai, UTC+08:00)"
    ] * 2
