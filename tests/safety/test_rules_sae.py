"""SAE 24-hour reporting clock with its alerts, and the SUSAR clocks (PROTOCOL.md §6, §8)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from safety.rules.sae import (
    AlertKind,
    ReportStatus,
    SaeAlert,
    SafetyClockConfig,
    SusarDeadlines,
    load_safety_clock_config,
    sae_alerts,
    sae_alerts_due,
    sae_report_deadline,
    sae_report_status,
    susar_deadlines,
    susar_report_status,
)

CONFIG = load_safety_clock_config()
AWARE_AT = datetime(2026, 3, 10, 18, 30, tzinfo=UTC)  # 02:30 Shanghai on 11 March
DEADLINE = datetime(2026, 3, 11, 18, 30, tzinfo=UTC)


def test_config_comes_from_the_protocol():
    assert (
        SafetyClockConfig(
            sae_report_hours=24,
            sae_alert_hours=(12, 20),
            susar_fatal_days=7,
            susar_fatal_completion_extra_days=8,
            susar_other_days=15,
        )
        == CONFIG
    )


def test_report_deadline_is_24_hours_after_awareness():
    assert sae_report_deadline(AWARE_AT, config=CONFIG) == DEADLINE


@pytest.mark.parametrize(
    ("reported_at", "now", "status"),
    [
        (None, AWARE_AT, ReportStatus.DUE),
        (None, DEADLINE - timedelta(seconds=1), ReportStatus.DUE),
        (None, DEADLINE, ReportStatus.OVERDUE),
        (None, DEADLINE + timedelta(days=3), ReportStatus.OVERDUE),
        (AWARE_AT + timedelta(hours=1), AWARE_AT + timedelta(hours=2), ReportStatus.ON_TIME),
        (DEADLINE, DEADLINE + timedelta(days=1), ReportStatus.ON_TIME),
        (DEADLINE + timedelta(seconds=1), DEADLINE + timedelta(days=1), ReportStatus.REPORTED_LATE),
    ],
)
def test_sae_report_status(reported_at, now, status):
    assert sae_report_status(aware_at=AWARE_AT, reported_at=reported_at, now=now, config=CONFIG) is status


def test_report_time_in_another_offset_is_compared_as_an_instant():
    reported_at = datetime.fromisoformat("2026-03-12T02:30:00+08:00")  # = the deadline
    assert sae_report_status(aware_at=AWARE_AT, reported_at=reported_at, now=reported_at, config=CONFIG) is (
        ReportStatus.ON_TIME
    )


def test_alert_instants_at_12_h_20_h_and_overdue_at_24_h():
    assert sae_alerts(AWARE_AT, config=CONFIG) == (
        SaeAlert(AlertKind.REMINDER, datetime(2026, 3, 11, 6, 30, tzinfo=UTC), 12),
        SaeAlert(AlertKind.REMINDER, datetime(2026, 3, 11, 14, 30, tzinfo=UTC), 20),
        SaeAlert(AlertKind.OVERDUE, DEADLINE, 24),
    )


@pytest.mark.parametrize(
    ("hours_after_awareness", "due_hours"),
    [(11.99, []), (12, [12]), (19.99, [12]), (20, [12, 20]), (23.99, [12, 20]), (24, [12, 20, 24])],
)
def test_alerts_due_by_now(hours_after_awareness, due_hours):
    now = AWARE_AT + timedelta(hours=hours_after_awareness)
    due = sae_alerts_due(aware_at=AWARE_AT, reported_at=None, now=now, config=CONFIG)
    assert [alert.hours_after_awareness for alert in due] == due_hours


def test_no_alerts_once_reported():
    now = DEADLINE + timedelta(hours=1)
    reported_at = AWARE_AT + timedelta(hours=13)
    assert sae_alerts_due(aware_at=AWARE_AT, reported_at=reported_at, now=now, config=CONFIG) == ()


def test_naive_awareness_is_refused():
    with pytest.raises(ValueError, match="aware_at must be a timezone-aware instant"):
        sae_report_deadline(datetime(2026, 3, 10, 18, 30), config=CONFIG)  # noqa: DTZ001 - the naive input under test


@pytest.mark.parametrize("alert_hours", [[0, 12], [12, 24], [30]])
def test_alert_hours_must_fall_before_the_deadline(alert_hours):
    section = {
        "sae_report_hours": 24,
        "sae_alert_hours": alert_hours,
        "susar_fatal_days": 7,
        "susar_fatal_completion_extra_days": 8,
        "susar_other_days": 15,
    }
    with pytest.raises(ValueError, match="must lie between 0 and 24 h"):
        SafetyClockConfig.from_mapping(section)


# ---- SUSAR clocks --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fatal_or_life_threatening", "deadlines"),
    [
        (True, SusarDeadlines(initial_report_due=date(2026, 3, 17), completion_due=date(2026, 3, 25))),
        (False, SusarDeadlines(initial_report_due=date(2026, 3, 25), completion_due=None)),
    ],
)
def test_susar_deadlines(fatal_or_life_threatening, deadlines):
    result = susar_deadlines(
        sponsor_aware_on=date(2026, 3, 10), fatal_or_life_threatening=fatal_or_life_threatening, config=CONFIG
    )
    assert result == deadlines


def test_susar_deadlines_cross_month_end():
    result = susar_deadlines(sponsor_aware_on=date(2026, 2, 25), fatal_or_life_threatening=True, config=CONFIG)
    assert result == SusarDeadlines(date(2026, 3, 4), date(2026, 3, 12))


@pytest.mark.parametrize(
    ("reported_on", "today", "status"),
    [
        (None, date(2026, 3, 16), ReportStatus.DUE),
        (None, date(2026, 3, 17), ReportStatus.DUE),
        (None, date(2026, 3, 18), ReportStatus.OVERDUE),
        (date(2026, 3, 17), date(2026, 3, 20), ReportStatus.ON_TIME),
        (date(2026, 3, 18), date(2026, 3, 20), ReportStatus.REPORTED_LATE),
    ],
)
def test_susar_report_status(reported_on, today, status):
    assert susar_report_status(date(2026, 3, 17), reported_on=reported_on, today=today) is status
