"""Study days and visit windows in site-local calendar days, across UTC day boundaries."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from safety.rules.windows import (
    ScheduledVisit,
    VisitDefinition,
    WindowPosition,
    classify_visit_date,
    d0_date,
    d_minus_1_date,
    date_of_study_day,
    is_overdue,
    is_window_open,
    load_visit_definitions,
    schedule_visits,
    site_local_date,
    study_day,
    study_day_of_date,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
D0 = date(2026, 3, 10)
SCHEDULE = {visit.code: visit for visit in schedule_visits(D0, load_visit_definitions())}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_visit_definitions_come_from_the_protocol():
    assert [
        (visit.code, visit.target_day, visit.window_before, visit.window_after) for visit in load_visit_definitions()
    ] == [
        ("D0", 0, 0, 0),
        ("D2", 2, 0, 0),
        ("D3", 3, 0, 0),
        ("D7", 7, 1, 1),
        ("D14", 14, 2, 2),
        ("D28", 28, 0, 2),
        ("D30", 30, 0, 3),
    ]


@pytest.mark.parametrize(
    ("code", "target", "earliest", "latest"),
    [
        ("D0", date(2026, 3, 10), date(2026, 3, 10), date(2026, 3, 10)),
        ("D2", date(2026, 3, 12), date(2026, 3, 12), date(2026, 3, 12)),
        ("D3", date(2026, 3, 13), date(2026, 3, 13), date(2026, 3, 13)),
        ("D7", date(2026, 3, 17), date(2026, 3, 16), date(2026, 3, 18)),
        ("D14", date(2026, 3, 24), date(2026, 3, 22), date(2026, 3, 26)),
        ("D28", date(2026, 4, 7), date(2026, 4, 7), date(2026, 4, 9)),
        ("D30", date(2026, 4, 9), date(2026, 4, 9), date(2026, 4, 12)),
    ],
)
def test_schedule_target_dates_and_windows(code, target, earliest, latest):
    visit = SCHEDULE[code]
    assert (visit.target_date, visit.earliest, visit.latest) == (target, earliest, latest)


def test_scheduled_visit_keeps_its_identity():
    assert SCHEDULE["D7"] == ScheduledVisit(
        code="D7",
        label="Day 7",
        target_day=7,
        target_date=date(2026, 3, 17),
        earliest=date(2026, 3, 16),
        latest=date(2026, 3, 18),
    )


def test_schedule_crosses_month_and_year_ends():
    visits = {v.code: v for v in schedule_visits(date(2026, 12, 20), load_visit_definitions())}
    assert (visits["D14"].target_date, visits["D14"].latest) == (date(2027, 1, 3), date(2027, 1, 5))
    assert visits["D28"].target_date == date(2027, 1, 17)


@pytest.mark.parametrize(
    ("code", "visit_date", "position"),
    [
        ("D7", date(2026, 3, 15), WindowPosition.EARLY),
        ("D7", date(2026, 3, 16), WindowPosition.IN_WINDOW),
        ("D7", date(2026, 3, 17), WindowPosition.IN_WINDOW),
        ("D7", date(2026, 3, 18), WindowPosition.IN_WINDOW),
        ("D7", date(2026, 3, 19), WindowPosition.LATE),
        ("D2", date(2026, 3, 11), WindowPosition.EARLY),
        ("D2", date(2026, 3, 12), WindowPosition.IN_WINDOW),
        ("D2", date(2026, 3, 13), WindowPosition.LATE),
        ("D28", date(2026, 4, 6), WindowPosition.EARLY),
        ("D28", date(2026, 4, 9), WindowPosition.IN_WINDOW),
        ("D28", date(2026, 4, 10), WindowPosition.LATE),
        ("D30", date(2026, 4, 12), WindowPosition.IN_WINDOW),
        ("D30", date(2026, 4, 13), WindowPosition.LATE),
    ],
)
def test_classify_visit_date(code, visit_date, position):
    assert classify_visit_date(SCHEDULE[code], visit_date) is position


@pytest.mark.parametrize(
    ("code", "today", "overdue"),
    [
        ("D7", date(2026, 3, 17), False),
        ("D7", date(2026, 3, 18), False),
        ("D7", date(2026, 3, 19), True),
        ("D3", date(2026, 3, 13), False),
        ("D3", date(2026, 3, 14), True),
    ],
)
def test_is_overdue_after_the_window_closes(code, today, overdue):
    assert is_overdue(SCHEDULE[code], today) is overdue


def test_recorded_visit_is_never_overdue():
    assert is_overdue(SCHEDULE["D7"], date(2026, 4, 1), visit_date=date(2026, 3, 20)) is False


@pytest.mark.parametrize(
    ("today", "is_open"),
    [(date(2026, 3, 21), False), (date(2026, 3, 22), True), (date(2026, 3, 26), True), (date(2026, 3, 27), False)],
)
def test_window_open(today, is_open):
    assert is_window_open(SCHEDULE["D14"], today) is is_open


def test_negative_window_is_refused():
    with pytest.raises(ValueError, match="Visit X: window days cannot be negative."):
        VisitDefinition(code="X", label="X", target_day=1, window_before=-1, window_after=0)


# ---- D−1, D0 and study days across UTC day boundaries ------------------------------------------------------------


@pytest.mark.parametrize(
    ("planned_infusion_at", "d0", "d_minus_1"),
    [
        # 09:00 Shanghai on 10 March = 01:00 UTC the same day
        (utc(2026, 3, 10, 1, 0), date(2026, 3, 10), date(2026, 3, 9)),
        # 07:00 Shanghai on 10 March = 23:00 UTC on 9 March: still D0 = 10 March
        (utc(2026, 3, 9, 23, 0), date(2026, 3, 10), date(2026, 3, 9)),
        # 00:00 Shanghai on 10 March = 16:00 UTC on 9 March
        (utc(2026, 3, 9, 16, 0), date(2026, 3, 10), date(2026, 3, 9)),
        # 23:59 Shanghai on 9 March = 15:59 UTC on 9 March
        (utc(2026, 3, 9, 15, 59), date(2026, 3, 9), date(2026, 3, 8)),
        # 1 March 07:00 Shanghai = 28 February 23:00 UTC: D−1 is 28 February
        (utc(2026, 2, 28, 23, 0), date(2026, 3, 1), date(2026, 2, 28)),
        # 1 January 08:00 Shanghai = 1 January 00:00 UTC: D−1 is the last day of the year before
        (utc(2027, 1, 1, 0, 0), date(2027, 1, 1), date(2026, 12, 31)),
    ],
)
def test_d0_and_d_minus_1_in_site_local_days(planned_infusion_at, d0, d_minus_1):
    assert d0_date(planned_infusion_at, SHANGHAI) == d0
    assert d_minus_1_date(planned_infusion_at, SHANGHAI) == d_minus_1


def test_d_minus_1_from_an_instant_in_another_offset():
    planned = datetime.fromisoformat("2026-03-10T09:00:00+08:00")
    assert d_minus_1_date(planned, SHANGHAI) == date(2026, 3, 9)


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        (utc(2026, 3, 9, 15, 59), -1),  # 23:59 Shanghai on 9 March
        (utc(2026, 3, 9, 16, 0), 0),  # 00:00 Shanghai on 10 March
        (utc(2026, 3, 10, 15, 59), 0),
        (utc(2026, 3, 10, 16, 0), 1),
        (utc(2026, 3, 12, 16, 30), 3),  # 00:30 Shanghai on 13 March although the UTC date is the 12th
        (utc(2026, 4, 7, 10, 0), 28),
        (utc(2026, 4, 7, 16, 0), 29),
        (utc(2026, 2, 24, 2, 0), -14),
    ],
)
def test_study_day_of_an_instant(instant, day):
    assert study_day(instant, d0=D0, tz=SHANGHAI) == day


def test_study_day_across_a_daylight_saving_change():
    # New York springs forward on 8 March 2026; calendar days still count one per date.
    d0 = date(2026, 3, 7)
    assert study_day(utc(2026, 3, 9, 3, 30), d0=d0, tz=NEW_YORK) == 1  # 23:30 EDT on 8 March
    assert study_day(utc(2026, 3, 9, 4, 0), d0=d0, tz=NEW_YORK) == 2  # 00:00 EDT on 9 March


def test_study_day_and_date_round_trip():
    assert date_of_study_day(D0, -1) == date(2026, 3, 9)
    assert date_of_study_day(D0, 28) == date(2026, 4, 7)
    assert study_day_of_date(date(2026, 4, 7), d0=D0) == 28
    assert study_day_of_date(date(2026, 3, 9), d0=D0) == -1


def test_site_local_date():
    assert site_local_date(utc(2026, 3, 9, 23, 0), SHANGHAI) == date(2026, 3, 10)
    assert site_local_date(utc(2026, 3, 9, 23, 0), NEW_YORK) == date(2026, 3, 9)


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="instant must be a timezone-aware instant, not a naive datetime."):
        study_day(datetime(2026, 3, 10, 9, 0), d0=D0, tz=SHANGHAI)  # noqa: DTZ001 - the naive input under test
