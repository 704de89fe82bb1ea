"""Operating characteristics: reproducible by seed, exact in degenerate scenarios, right on average."""

import math

import pytest

from dosing.rules.config import boin_options, escalation_options
from dosing.rules.simulate import simulate

AT33, BOIN = escalation_options(), boin_options()
DESIGNS = [("at3+3", AT33), ("boin", BOIN)]


def run(design, options, true_dlt, trials=400, seed=7):
    return simulate(design, true_dlt=true_dlt, trials=trials, seed=seed, options=options)


@pytest.mark.parametrize(("design", "options"), DESIGNS)
def test_same_seed_same_numbers(design, options):
    first = run(design, options, (0.05, 0.15, 0.35), seed=11)
    again = run(design, options, (0.05, 0.15, 0.35), seed=11)
    other = run(design, options, (0.05, 0.15, 0.35), seed=12)

    assert first == again
    assert first.to_dict() != other.to_dict()


@pytest.mark.parametrize(("design", "options"), DESIGNS)
def test_every_trial_selects_a_level_or_stops(design, options):
    result = run(design, options, (0.1, 0.3, 0.5))

    total = sum(level.p_selected for level in result.levels) + result.p_stop_no_tolerable_dose
    assert total == pytest.approx(1.0)
    assert result.mean_sample_size == pytest.approx(sum(level.mean_subjects for level in result.levels))


@pytest.mark.parametrize(
    ("design", "options", "true_dlt", "selected", "stop", "not_reached", "subjects", "dlts"),
    [
        # nobody has a DLT: escalate to the top, confirm in 6, declare the MAD
        ("at3+3", AT33, (0, 0, 0), (0, 0, 1), 0, 1, (1, 3, 6), (0, 0, 0)),
        # everyone has a DLT: 1 titration subject + 2 → 2 DLT at level 1 → stop
        ("at3+3", AT33, (1, 1, 1), (0, 0, 0), 1, 0, (3, 0, 0), (3, 0, 0)),
        # level 2 fails at once: level 1 filled to 6 and declared the MTD
        ("at3+3", AT33, (0, 1, 1), (1, 0, 0), 0, 0, (6, 3, 0), (0, 3, 0)),
        ("boin", BOIN, (0, 0, 0), (0, 0, 1), 0, 0, (3, 3, 12), (0, 0, 0)),
        ("boin", BOIN, (1, 1, 1), (0, 0, 0), 1, 0, (3, 0, 0), (3, 0, 0)),
        # level 2 eliminated after its first cohort; the remaining 4 cohorts stay at level 1
        ("boin", BOIN, (0, 1, 1), (1, 0, 0), 0, 0, (15, 3, 0), (0, 3, 0)),
    ],
)
def test_degenerate_scenarios_are_exact(design, options, true_dlt, selected, stop, not_reached, subjects, dlts):
    result = run(design, options, true_dlt, trials=50)

    assert tuple(level.p_selected for level in result.levels) == selected
    assert result.p_stop_no_tolerable_dose == stop
    assert result.p_mtd_not_reached == not_reached
    assert tuple(level.mean_subjects for level in result.levels) == subjects
    assert tuple(level.mean_dlts for level in result.levels) == dlts


def test_at3plus3_mad_probability_matches_the_closed_form():
    # given: pass L1 (titration, or 3+3 after a first DLT), pass L2 by 3+3, ≤1 DLT in 6 at L3
    p1, p2, p3 = 0.05, 0.15, 0.35
    pass_l1 = (1 - p1) + p1 * (1 - p1) ** 5
    pass_l2 = (1 - p2) ** 3 + 3 * p2 * (1 - p2) ** 2 * (1 - p2) ** 3
    confirm_l3 = (1 - p3) ** 6 + 6 * p3 * (1 - p3) ** 5
    expected = pass_l1 * pass_l2 * confirm_l3

    # when
    result = run("at3+3", AT33, (p1, p2, p3), trials=10_000, seed=2025)

    # then: within 4 standard errors
    tolerance = 4 * math.sqrt(expected * (1 - expected) / 10_000)
    assert result.p_mtd_not_reached == pytest.approx(expected, abs=tolerance)
    assert result.levels[2].p_selected == result.p_mtd_not_reached


def test_boin_uses_all_cohorts_unless_it_stops():
    result = run("boin", BOIN, (0.05, 0.15, 0.35), trials=1000)

    assert result.p_stop_no_tolerable_dose == 0
    assert result.mean_sample_size == BOIN.max_subjects


def test_progress_is_reported_once_per_trial():
    ticks = []

    simulate("boin", true_dlt=(0.1, 0.2, 0.3), trials=25, seed=1, options=BOIN, progress=ticks.append)

    assert ticks == [1] * 25


def test_to_dict_is_json_ready():
    result = run("at3+3", AT33, (0, 0, 0), trials=3, seed=5)

    assert result.to_dict() == {
        "design": "at3+3",
        "trials": 3,
        "seed": 5,
        "levels": [
            {"level": 1, "true_dlt": 0, "p_selected": 0.0, "mean_subjects": 1.0, "mean_dlts": 0.0},
            {"level": 2, "true_dlt": 0, "p_selected": 0.0, "mean_subjects": 3.0, "mean_dlts": 0.0},
            {"level": 3, "true_dlt": 0, "p_selected": 1.0, "mean_subjects": 6.0, "mean_dlts": 0.0},
        ],
        "p_stop_no_tolerable_dose": 0.0,
        "p_mtd_not_reached": 1.0,
        "mean_sample_size": 10.0,
    }


@pytest.mark.parametrize(
    ("design", "options", "true_dlt", "trials", "error", "message"),
    [
        ("at3+3", AT33, (0.1, 0.2), 10, ValueError, "Expected 3 true DLT probabilities (one per level), got 2"),
        ("at3+3", AT33, (0.1, 0.2, 1.2), 10, ValueError, "True DLT probabilities must lie between 0 and 1"),
        ("boin", BOIN, (0.1, 0.2, 0.3), 0, ValueError, "The number of trials must be at least 1"),
        ("crm", BOIN, (0.1, 0.2, 0.3), 10, ValueError, "Unknown design 'crm': expected one of at3+3, boin"),
        ("boin", AT33, (0.1, 0.2, 0.3), 10, TypeError, "The boin design needs BoinOptions, not EscalationOptions"),
    ],
)
def test_invalid_inputs_are_refused(design, options, true_dlt, trials, error, message):
    with pytest.raises(error) as raised:
        simulate(design, true_dlt=true_dlt, trials=trials, seed=1, options=options)
    assert str(raised.value) == message
