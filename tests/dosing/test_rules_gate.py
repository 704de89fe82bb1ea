"""The dosing gate's pure rules: D−1 in the site's zone, the reconfirmation range, the checklist, dose and draws."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dosing.rules import gate

SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")
LIMITS = gate.GateLimits(
    platelets_min=Decimal(50),
    platelets_max=Decimal(100),
    transfusion_free_hours=72,
    thrombopoietic_free_days=7,
    surgery_free_days=28,
    draw_minutes=(60, 120, 240),
    draw_tolerance_minutes=15,
    dose_tolerance_percent=Decimal(10),
    min_hours_between_infusions=24,
    sentinel_days=14,
    screening_labs_valid_days=14,
)
START = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 09:00 in Beijing


@pytest.mark.parametrize(
    ("planned_at", "tz", "expected"),
    [
        (datetime(2026, 3, 10, 1, 0, tzinfo=UTC), SHANGHAI, date(2026, 3, 9)),  # 09:00 Beijing
        (datetime(2026, 3, 9, 16, 0, tzinfo=UTC), SHANGHAI, date(2026, 3, 9)),  # 00:00 on 10 March in Beijing
        (datetime(2026, 3, 9, 15, 59, tzinfo=UTC), SHANGHAI, date(2026, 3, 8)),  # 23:59 on 9 March in Beijing
        (datetime(2026, 3, 9, 23, 30, tzinfo=UTC), BERLIN, date(2026, 3, 9)),  # 00:30 on 10 March in Berlin
        (datetime(2026, 3, 29, 22, 30, tzinfo=UTC), BERLIN, date(2026, 3, 29)),  # 00:30 CEST after the DST change
    ],
)
def test_d_minus_1_is_the_site_local_day_before_d0(planned_at, tz, expected):
    assert gate.d_minus_1(planned_at, tz) == expected


def test_the_config_is_read_from_the_seeded_sections():
    config = {
        "dosing_gate": {
            "reconfirmation_platelets_min": 50,
            "reconfirmation_platelets_max": 100,
            "transfusion_free_hours": 72,
            "thrombopoietic_free_days": 7,
            "surgery_free_days": 28,
            "post_infusion_draws_minutes": [60, 120, 240],
            "post_infusion_draw_tolerance_minutes": 15,
        },
        "scheduling": {
            "dose_tolerance_percent": 10,
            "min_hours_between_infusions": 24,
            "sentinel_days": 14,
            "screening_labs_valid_days": 14,
        },
    }

    assert gate.GateLimits.from_config(config) == LIMITS


@pytest.mark.parametrize(
    ("platelets", "bleeding", "ok"),
    [("49.9", False, False), ("50", False, True), ("100", False, True), ("100.1", False, False), ("72", True, False)],
)
def test_reconfirmation_range_is_inclusive_and_bleeding_blocks(platelets, bleeding, ok):
    assert gate.reconfirmation_outcome(platelets=Decimal(platelets), bleeding=bleeding, limits=LIMITS).ok is ok


def test_a_draw_on_d_minus_1_local_counts_even_on_the_previous_utc_day():
    drawn = datetime(2026, 3, 8, 16, 30, tzinfo=UTC)  # 00:30 on 9 March in Beijing

    assert gate.draw_day_problem(drawn_at=drawn, d_minus_1_day=date(2026, 3, 9), tz=SHANGHAI) is None


def facts(**changes) -> gate.GateFacts:
    values = {
        "start": START,
        "planned_d0": date(2026, 3, 10),
        "reconfirmation": gate.Outcome(True, "Cleared."),
        "assessed": True,
        "baseline_drawn_at": START - timedelta(minutes=45),
        "last_transfusion_at": None,
        "last_thrombopoietic_on": None,
        "last_surgery_on": None,
    }
    return gate.GateFacts(**(values | changes))


def statuses(**changes) -> dict[str, str]:
    return {item.code: item.status for item in gate.checklist(facts(**changes), limits=LIMITS, tz=SHANGHAI)}


def test_everything_recorded_passes():
    assert set(statuses().values()) == {"pass"}


@pytest.mark.parametrize(
    ("before", "status"),
    [(timedelta(hours=48), "fail"), (timedelta(hours=71, minutes=59), "fail"), (timedelta(hours=72), "pass")],
)
def test_in3_counts_hours_by_timestamp(before, status):
    assert statuses(last_transfusion_at=START - before)["IN3"] == status


@pytest.mark.parametrize(
    ("code", "field", "day", "status"),
    [
        ("EX5", "last_thrombopoietic_on", date(2026, 3, 3), "fail"),  # 7 days before D0: inside the window
        ("EX5", "last_thrombopoietic_on", date(2026, 3, 2), "pass"),
        ("EX10", "last_surgery_on", date(2026, 2, 10), "fail"),  # 28 days before D0
        ("EX10", "last_surgery_on", date(2026, 2, 9), "pass"),
    ],
)
def test_ex5_and_ex10_windows_end_at_d0(code, field, day, status):
    assert statuses(**{field: day})[code] == status


def test_baseline_after_the_start_or_on_another_day_fails():
    assert statuses(baseline_drawn_at=START + timedelta(minutes=1))["BASELINE"] == "fail"
    assert statuses(baseline_drawn_at=START - timedelta(hours=10))["BASELINE"] == "fail"  # 23:00 on D−1


def test_a_start_on_another_day_than_the_plan_fails():
    assert statuses(start=START + timedelta(days=1))["D0"] == "fail"


@pytest.mark.parametrize(
    ("product", "fraction", "given", "deviation", "beyond"),
    [
        (100_000_000, "100", 100_000_000, "0.0", False),
        (110_000_000, "100", 110_000_000, "10.0", False),
        (111_000_000, "100", 111_000_000, "11.0", True),
        (100_000_000, "40", 40_000_000, "-60.0", True),
    ],
)
def test_dose_given_and_its_deviation(product, fraction, given, deviation, beyond):
    check = gate.dose_check(
        product_viable_cells=product, fraction_percent=Decimal(fraction), level_cells=100_000_000, limits=LIMITS
    )

    assert (check.cells_given, str(check.deviation_percent), check.beyond_tolerance) == (given, deviation, beyond)


@pytest.mark.parametrize(("off", "flagged"), [(15, False), (-15, False), (16, True), (-16, True)])
def test_draws_allow_fifteen_minutes_either_side(off, flagged):
    ended = START + timedelta(minutes=30)
    drawn = ended + timedelta(minutes=60 + off)

    reason = gate.draw_deviation(ended_at=ended, minutes=60, drawn_at=drawn, limits=LIMITS, tz=SHANGHAI)

    assert bool(reason) is flagged


def test_spacing_names_the_other_subject():
    problem = gate.spacing_problem(
        planned_at=START, others={"S-BJ01-002": START + timedelta(hours=23)}, limits=LIMITS, tz=SHANGHAI
    )

    assert problem == "S-BJ01-002 is planned at 2026-03-11T08:00+08:00: infusions must be at least 24 hours apart."
    assert not gate.spacing_problem(
        planned_at=START, others={"S-BJ01-002": START + timedelta(hours=24)}, limits=LIMITS, tz=SHANGHAI
    )


# --- the actual start (issue 12, defect 2): the gap and the sentinel on the time the infusion began


def actual(started_at, others=None, level_starts=()):
    return gate.actual_start_problem(
        started_at=started_at, others=others or {}, level_starts=list(level_starts), limits=LIMITS, tz=SHANGHAI
    )


def test_a_start_23_5_hours_after_another_infusion_breaks_the_gap():
    previous = START - timedelta(hours=23, minutes=30)

    assert actual(START, {"S-BJ01-002": previous}) == (
        "S-BJ01-002 was infused at 2026-03-09T09:30+08:00: infusions must start at least 24 hours apart."
    )


@pytest.mark.parametrize("hours", [24, -24, 30])
def test_a_start_24_hours_or_more_from_another_infusion_keeps_the_gap(hours):
    assert actual(START, {"S-BJ01-002": START - timedelta(hours=hours)}) == ""


def test_a_later_infusion_is_checked_too():
    assert actual(START, {"S-BJ01-003": START + timedelta(hours=12)}).startswith("S-BJ01-003 was infused at")


def test_a_start_inside_the_sentinels_observation_is_refused():
    sentinel = START - timedelta(days=13, hours=23)

    assert actual(START, level_starts=[sentinel]) == (
        "The first subject at this level (infused 2026-02-24T10:00+08:00) is observed 14 days: "
        "no infusion at this level before 2026-03-10T10:00+08:00."
    )


def test_a_start_before_the_sentinel_that_leaves_it_unobserved_is_refused():
    assert actual(START, level_starts=[START + timedelta(days=3)]) == (
        "Another subject at this level was infused at 2026-03-13T09:00+08:00, less than 14 days after "
        "this start: the sentinel must be observed first."
    )


def test_a_start_after_the_sentinels_observation_is_allowed():
    assert actual(START, level_starts=[START - timedelta(days=14)]) == ""
