"""When each reminder is due, in site-local time: Shanghai (UTC+8, no DST) and Berlin (across the DST switch)."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from safety.rules.reminders import (
    CandidateFacts,
    EscalationFacts,
    PlanFacts,
    ReminderConfig,
    ReminderKind,
    SaeFacts,
    VisitFacts,
    candidate_occasions,
    due_occasions,
    escalation_occasions,
    local_instant,
    parse_ref,
    plan_occasions,
    sae_occasions,
    src_decision_due,
    visit_occasions,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
SAFETY = {
    "sae_report_hours": 24,
    "sae_alert_hours": [20, 12],
    "susar_fatal_days": 7,
    "susar_fatal_completion_extra_days": 8,
    "susar_other_days": 15,
}
CONFIG = ReminderConfig.from_mapping(
    {
        "morning_reminder_local_time": "08:00",
        "reconfirmation_cutoff_local_time": "16:00",
        "visit_overdue_alert_days": 7,
    },
    SAFETY,
)
K = ReminderKind


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def kinds_due(occasions, at: datetime) -> list[str]:
    return [occasion.kind.value for occasion in due_occasions(occasions, now=at)]


# --- D−1 reconfirmation: Shanghai, D−1 = 10 March 2030, infusion 09:00 on 11 March (01:00 UTC)
PLAN = PlanFacts(7, SHANGHAI, date(2030, 3, 10), utc(2030, 3, 11, 1, 0), reconfirmed=False)


def test_d_minus_1_reminders_fall_at_shanghai_wall_clock_times():
    occasions = plan_occasions(PLAN, CONFIG)

    assert [(o.kind.value, o.due_at, o.stale_at) for o in occasions] == [
        ("d_minus_1_draw_tomorrow", utc(2030, 3, 9, 0, 0), utc(2030, 3, 9, 16, 0)),  # stale at 00:00 on D−1
        ("d_minus_1_morning", utc(2030, 3, 10, 0, 0), utc(2030, 3, 10, 8, 0)),
        ("reconfirmation_missing", utc(2030, 3, 10, 8, 0), utc(2030, 3, 11, 1, 0)),
    ]
    assert {o.key for o in occasions} == {"plan:7:d-1:2030-03-10"}
    assert {o.object_ref for o in occasions} == {"plan:7"}


@pytest.mark.parametrize(
    ("at", "due"),
    [
        (utc(2030, 3, 8, 23, 59), []),  # 07:59 on D−2 in Shanghai: still the previous UTC day
        (utc(2030, 3, 9, 0, 0), ["d_minus_1_draw_tomorrow"]),  # 08:00 on D−2
        (utc(2030, 3, 9, 15, 59), ["d_minus_1_draw_tomorrow"]),  # 23:59 on D−2
        (utc(2030, 3, 10, 0, 0), ["d_minus_1_morning"]),  # 08:00 on D−1: the morning one takes over
        (utc(2030, 3, 10, 7, 59), ["d_minus_1_morning"]),  # 15:59
        (utc(2030, 3, 10, 8, 0), ["reconfirmation_missing"]),  # 16:00 cut-off
        (utc(2030, 3, 11, 0, 59), ["reconfirmation_missing"]),  # 08:59 on D0
        (utc(2030, 3, 11, 1, 0), []),  # the planned infusion time: too late to be useful
    ],
)
def test_one_d_minus_1_reminder_is_due_at_a_time(at, due):
    assert kinds_due(plan_occasions(PLAN, CONFIG), at) == due


def test_a_reconfirmed_plan_needs_no_reminder():
    reconfirmed = PlanFacts(7, SHANGHAI, date(2030, 3, 10), utc(2030, 3, 11, 1, 0), reconfirmed=True)

    assert plan_occasions(reconfirmed, CONFIG) == ()


def test_a_rescheduled_d_minus_1_is_a_new_occasion():
    moved = PlanFacts(7, SHANGHAI, date(2030, 3, 12), utc(2030, 3, 13, 1, 0), reconfirmed=False)

    assert {o.key for o in plan_occasions(moved, CONFIG)} == {"plan:7:d-1:2030-03-12"}


def test_berlin_d_minus_1_on_the_day_summer_time_starts():
    # D−1 = Sunday 31 March 2030, when Berlin moves from UTC+1 to UTC+2 at 02:00.
    plan = PlanFacts(8, BERLIN, date(2030, 3, 31), utc(2030, 4, 1, 7, 0), reconfirmed=False)

    occasions = plan_occasions(plan, CONFIG)

    assert [o.due_at for o in occasions] == [
        utc(2030, 3, 30, 7, 0),  # 08:00 CET on D−2
        utc(2030, 3, 31, 6, 0),  # 08:00 CEST on D−1
        utc(2030, 3, 31, 14, 0),  # 16:00 CEST
    ]


# --- Visit windows
def visit(earliest, target, latest, zone=SHANGHAI) -> VisitFacts:
    return VisitFacts(31, zone, earliest, target, latest)


D7 = visit(date(2030, 6, 8), date(2030, 6, 9), date(2030, 6, 10))


def test_visit_window_open_target_day_and_overdue_in_shanghai():
    occasions = visit_occasions(D7, CONFIG)

    assert [(o.kind.value, o.due_at, o.stale_at) for o in occasions] == [
        ("visit_window_open", utc(2030, 6, 8, 0, 0), utc(2030, 6, 9, 0, 0)),
        ("visit_target_day", utc(2030, 6, 9, 0, 0), utc(2030, 6, 11, 0, 0)),
        ("visit_overdue", utc(2030, 6, 11, 0, 0), utc(2030, 6, 18, 0, 0)),
    ]
    assert {o.key for o in occasions} == {"visit:31:2030-06-08/2030-06-09/2030-06-10"}


@pytest.mark.parametrize(
    ("at", "due"),
    [
        (utc(2030, 6, 7, 23, 59), []),
        (utc(2030, 6, 8, 0, 0), ["visit_window_open"]),
        (utc(2030, 6, 9, 0, 0), ["visit_target_day"]),
        (utc(2030, 6, 10, 23, 59), ["visit_target_day"]),  # 07:59 on the day after the window closed
        (utc(2030, 6, 11, 0, 0), ["visit_overdue"]),
        (utc(2030, 6, 17, 23, 59), ["visit_overdue"]),
        (utc(2030, 6, 18, 0, 0), []),  # 7 days on: the overdue list, not an email
    ],
)
def test_one_visit_reminder_is_due_at_a_time(at, due):
    assert kinds_due(visit_occasions(D7, CONFIG), at) == due


def test_a_window_that_opens_on_the_target_day_has_no_separate_opening_reminder():
    d2 = visit(date(2030, 6, 4), date(2030, 6, 4), date(2030, 6, 4))

    assert [o.kind.value for o in visit_occasions(d2, CONFIG)] == ["visit_target_day", "visit_overdue"]


def test_berlin_visit_reminders_follow_summer_and_winter_time():
    d14 = visit(date(2030, 10, 25), date(2030, 10, 27), date(2030, 10, 29), zone=BERLIN)

    assert [o.due_at for o in visit_occasions(d14, CONFIG)] == [
        utc(2030, 10, 25, 6, 0),  # 08:00 CEST
        utc(2030, 10, 27, 7, 0),  # 08:00 CET: winter time began at 03:00 that morning
        utc(2030, 10, 30, 7, 0),
    ]


def test_a_moved_visit_is_a_new_occasion():
    moved = visit(date(2030, 6, 9), date(2030, 6, 10), date(2030, 6, 11))

    assert {o.key for o in visit_occasions(moved, CONFIG)} == {"visit:31:2030-06-09/2030-06-10/2030-06-11"}


# --- SAE clock
AWARE = utc(2030, 6, 1, 22, 30)  # 06:30 on 2 June in Shanghai


def test_sae_alerts_at_12_and_20_hours_and_overdue_at_24():
    occasions = sae_occasions(SaeFacts(5, AWARE), CONFIG)

    assert [(o.kind.value, o.key, o.due_at, o.stale_at) for o in occasions] == [
        ("sae_reminder", "ae:5:aware:2030-06-01T22:30:00+00:00:12h", utc(2030, 6, 2, 10, 30), utc(2030, 6, 2, 18, 30)),
        ("sae_reminder", "ae:5:aware:2030-06-01T22:30:00+00:00:20h", utc(2030, 6, 2, 18, 30), utc(2030, 6, 2, 22, 30)),
        ("sae_overdue", "ae:5:aware:2030-06-01T22:30:00+00:00:24h", utc(2030, 6, 2, 22, 30), None),
    ]


@pytest.mark.parametrize(
    ("hours_after", "due_keys"),
    [
        (11.99, []),
        (12, ["12h"]),
        (19.99, ["12h"]),
        (20, ["20h"]),
        (23.99, ["20h"]),
        (24, ["24h"]),
        (24 * 30, ["24h"]),  # an SAE entered late is overdue at once, however late
    ],
)
def test_only_the_latest_sae_alert_is_due(hours_after, due_keys):
    at = AWARE + timedelta(hours=hours_after)

    due = due_occasions(sae_occasions(SaeFacts(5, AWARE), CONFIG), now=at)

    assert [o.key.rsplit(":", 1)[1] for o in due] == due_keys


def test_sae_keys_do_not_depend_on_the_offset_the_awareness_was_given_in():
    same_instant = AWARE.astimezone(SHANGHAI)

    assert sae_occasions(SaeFacts(5, same_instant), CONFIG) == sae_occasions(SaeFacts(5, AWARE), CONFIG)


# --- DLT candidates and SRC decisions
def test_a_dlt_candidate_is_due_from_its_flagging_and_again_when_its_adjudication_is_invalidated():
    flagged = candidate_occasions(CandidateFacts(9, invalidated=False, since=utc(2030, 6, 3, 2, 0)))
    invalidated = candidate_occasions(CandidateFacts(9, invalidated=True, since=utc(2030, 6, 5, 9, 0)))

    assert [(o.kind.value, o.key, o.due_at, o.stale_at) for o in flagged + invalidated] == [
        ("dlt_candidate", "ae:9:candidate:2030-06-03T02:00:00+00:00", utc(2030, 6, 3, 2, 0), None),
        ("dlt_candidate", "ae:9:readjudicate:2030-06-05T09:00:00+00:00", utc(2030, 6, 5, 9, 0), None),
    ]


@pytest.mark.parametrize(
    ("action", "dose_level", "open_level", "due"),
    [
        ("escalate", 2, 1, True),
        ("declare_mtd", 2, 3, True),
        ("declare_mad", 3, 3, True),
        ("stop", None, 1, True),
        ("enroll", 1, 2, True),  # back to a lower level: the SRC de-escalates
        ("enroll", 2, 2, False),  # more subjects at the open level
        ("enroll", 1, None, False),  # trial start: level 1 is opened without the SRC
        ("hold", None, 2, False),
    ],
)
def test_src_decision_due_when_only_the_committee_can_act(action, dose_level, open_level, due):
    assert src_decision_due(action, dose_level, open_level) is due


def test_src_decision_occasion_names_the_recommendation_and_the_path():
    facts = EscalationFacts("escalate", 2, 1, "1N", utc(2030, 7, 1, 0, 0))

    (occasion,) = escalation_occasions(facts)

    assert (occasion.kind, occasion.object_ref, occasion.key) == (
        K.SRC_DECISION_DUE,
        "escalation",
        "escalation:escalate:L2:1N",
    )
    assert escalation_occasions(EscalationFacts("hold", None, 1, "1P", utc(2030, 7, 1))) == ()


# --- Configuration and helpers
def test_config_refuses_a_cut_off_before_the_morning_reminder():
    with pytest.raises(ValueError, match="The D−1 cut-off 07:00 must come after the morning reminder 08:00."):
        ReminderConfig.from_mapping(
            {
                "morning_reminder_local_time": "08:00",
                "reconfirmation_cutoff_local_time": "07:00",
                "visit_overdue_alert_days": 7,
            },
            {**SAFETY, "sae_alert_hours": [12]},
        )


def test_config_refuses_alert_hours_outside_the_sae_clock():
    with pytest.raises(ValueError, match=r"SAE alert hours \(12, 24\) must lie between 0 and 24 h."):
        ReminderConfig.from_mapping(
            {
                "morning_reminder_local_time": "08:00",
                "reconfirmation_cutoff_local_time": "16:00",
                "visit_overdue_alert_days": 7,
            },
            {**SAFETY, "sae_alert_hours": [24, 12]},
        )


def test_config_refuses_a_time_that_is_not_hh_mm():
    with pytest.raises(ValueError, match="notifications.morning_reminder_local_time must be a local time HH:MM"):
        ReminderConfig.from_mapping(
            {
                "morning_reminder_local_time": "8 am",
                "reconfirmation_cutoff_local_time": "16:00",
                "visit_overdue_alert_days": 7,
            },
            {**SAFETY, "sae_alert_hours": [12]},
        )


def test_local_instant_and_references():
    assert local_instant(date(2030, 1, 15), time(8, 0), BERLIN) == utc(2030, 1, 15, 7, 0)
    assert local_instant(date(2030, 7, 15), time(8, 0), BERLIN) == utc(2030, 7, 15, 6, 0)
    assert (parse_ref("visit:12"), parse_ref("escalation")) == (("visit", 12), ("escalation", None))
