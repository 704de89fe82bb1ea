"""BOIN (PROTOCOL.md §4.3): boundaries against the published tables, elimination, moves, MTD selection."""

import math
from dataclasses import replace

import pytest

from dosing.rules.boin import (
    boin_boundaries,
    closest_to_target,
    elimination_min_dlts,
    isotonic_estimates,
    isotonic_regression,
    next_boin_decision,
    prob_above_target,
    regularized_incomplete_beta,
    select_mtd,
)
from dosing.rules.config import BoinOptions, ConfigError, boin_options

PROTOCOL = boin_options()


def options(**overrides) -> BoinOptions:
    return replace(PROTOCOL, **overrides)


def test_the_protocol_options_are_the_documented_defaults():
    assert (
        BoinOptions(n_levels=3, target=0.30, cohort_size=3, n_cohorts=6, elimination_cutoff=0.95, elimination_min_n=3)
        == PROTOCOL
    )
    assert PROTOCOL.max_subjects == 18


def test_boundaries_for_the_protocol_target():
    bounds = boin_boundaries(0.30)
    assert (round(bounds.lambda_e, 4), round(bounds.lambda_d, 4)) == (0.2365, 0.3585)


@pytest.mark.parametrize(
    ("target", "lambda_e", "lambda_d"),
    [(0.20, 0.157, 0.238), (0.25, 0.197, 0.298), (0.30, 0.236, 0.358)],  # Liu & Yuan 2015, 3 decimals
)
def test_boundaries_match_the_published_values(target, lambda_e, lambda_d):
    bounds = boin_boundaries(target)
    assert bounds.lambda_e == pytest.approx(lambda_e, abs=1e-3)
    assert bounds.lambda_d == pytest.approx(lambda_d, abs=1e-3)


# The BOIN decision tables (R package BOIN, get.boundary(); Yuan et al. 2016) for n = 1..12 evaluable subjects:
# escalate if DLTs ≤ e, de-escalate if DLTs ≥ d, eliminate if DLTs ≥ x (None: n < 3, no elimination).
NA = None
DECISION_TABLES = {
    0.20: {
        "escalate": [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
        "deescalate": [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3],
        "eliminate": [NA, NA, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5],
    },
    0.25: {
        "escalate": [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2],
        "deescalate": [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4],
        "eliminate": [NA, NA, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6],
    },
    0.30: {
        "escalate": [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2],
        "deescalate": [1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5],
        "eliminate": [NA, NA, 3, 3, 4, 4, 5, 5, 5, 6, 6, 7],
    },
}


@pytest.mark.parametrize("target", sorted(DECISION_TABLES))
def test_decision_table_matches_the_published_table(target):
    bounds, table_options = boin_boundaries(target), options(target=target)
    subjects = range(1, 13)

    assert [bounds.escalate_max_dlts(n) for n in subjects] == DECISION_TABLES[target]["escalate"]
    assert [bounds.deescalate_min_dlts(n) for n in subjects] == DECISION_TABLES[target]["deescalate"]
    assert [elimination_min_dlts(n, table_options) for n in subjects] == DECISION_TABLES[target]["eliminate"]


@pytest.mark.parametrize(
    ("x", "a", "b", "expected"),
    [
        (0.4, 2, 3, 0.5248),  # 1 − P(Bin(4, 0.4) ≤ 1)
        (0.5, 7, 7, 0.5),
        (0.5, 0.5, 0.5, 0.5),
        (0.25, 0.5, 0.5, 2 / math.pi * math.asin(0.5)),  # I_x(½, ½) = (2/π)·asin(√x)
        (0.9, 0.5, 0.5, 2 / math.pi * math.asin(math.sqrt(0.9))),
        (0.3, 2.5, 1, 0.3**2.5),  # I_x(a, 1) = x^a
        (0.3, 1, 4.5, 1 - 0.7**4.5),  # I_x(1, b) = 1 − (1 − x)^b
        (0.0, 2, 3, 0.0),
        (1.0, 2, 3, 1.0),
    ],
)
def test_regularized_incomplete_beta_known_values(x, a, b, expected):
    assert regularized_incomplete_beta(x, a, b) == pytest.approx(expected, abs=1e-12)


def test_regularized_incomplete_beta_equals_the_binomial_tail_for_whole_parameters():
    # I_x(a, b) = P(Binomial(a + b − 1, x) ≥ a) for whole a, b.
    for a in range(1, 25):
        for b in range(1, 25):
            for x in (0.01, 0.2, 0.3, 0.5, 0.77, 0.99):
                n = a + b - 1
                tail = sum(math.comb(n, k) * x**k * (1 - x) ** (n - k) for k in range(a, n + 1))
                assert regularized_incomplete_beta(x, a, b) == pytest.approx(tail, abs=1e-12)


@pytest.mark.parametrize(("x", "a", "b"), [(-0.1, 1, 1), (1.1, 1, 1), (0.5, 0, 1), (0.5, 1, -2)])
def test_regularized_incomplete_beta_refuses_bad_arguments(x, a, b):
    with pytest.raises(ValueError, match="needs 0 ≤ x ≤ 1"):
        regularized_incomplete_beta(x, a, b)


def test_posterior_probability_above_target():
    assert prob_above_target(3, 3, 0.3) == pytest.approx(1 - 0.3**4)  # Beta(4, 1)
    assert prob_above_target(3, 2, 0.3) == pytest.approx(0.9163, abs=1e-4)  # not > 0.95: no elimination


@pytest.mark.parametrize(
    ("values", "weights", "expected"),
    [
        ([0.1, 0.2, 0.3], [1, 1, 1], [0.1, 0.2, 0.3]),
        ([0.1, 0.5, 0.3, 0.2], [1, 1, 1, 1], [0.1, 1 / 3, 1 / 3, 1 / 3]),
        ([0.3, 0.1], [1, 3], [0.15, 0.15]),
        ([0.4, 0.3, 0.2, 0.1], [1, 1, 1, 1], [0.25, 0.25, 0.25, 0.25]),
        ([0.2, 0.2], [1, 5], [0.2, 0.2]),
    ],
)
def test_isotonic_regression_pools_adjacent_violators(values, weights, expected):
    assert isotonic_regression(values, weights) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("estimates", "expected"),
    [
        ([0.1, 0.28, 0.5], 1),
        ([0.4, 0.4, 0.6], 0),  # tied above the target: the lower dose
        ([0.1, 0.2, 0.2], 2),  # tied below the target: the higher dose
        ([0.3, 0.3], 1),  # tied at the target: the higher dose
        ([0.25, 0.35], 0),  # equally far on either side: the lower, safer dose
    ],
)
def test_closest_to_target_tie_rules(estimates, expected):
    assert closest_to_target(estimates, 0.3) == expected


@pytest.mark.parametrize(
    ("ns", "dlts", "mtd"),
    [
        ([3, 6, 9], [0, 1, 3], 3),
        ([3, 9, 6], [0, 2, 3], 2),
        ([3, 3, 3], [0, 0, 3], 2),  # level 3 eliminated; levels 1 and 2 tie below the target: the higher
        ([3, 3, 0], [0, 0, 0], 2),  # untried levels are never selected
        ([6, 3, 0], [2, 0, 0], 2),  # pooled by isotonic regression, then the tie goes to the higher
        ([9, 3, 6], [2, 3, 0], 1),  # level 2 eliminated, so level 3 too
        ([3, 0, 0], [3, 0, 0], None),  # level 1 eliminated
        ([0, 0, 0], [0, 0, 0], None),
    ],
)
def test_select_mtd(ns, dlts, mtd):
    assert select_mtd(ns, dlts, PROTOCOL) == mtd


def test_isotonic_estimates_are_monotone_and_skip_eliminated_levels():
    estimates = isotonic_estimates([6, 3, 3], [2, 0, 3], PROTOCOL)

    assert list(estimates) == [1, 2]
    assert estimates[1] == estimates[2] == pytest.approx(0.0512, abs=1e-4)


@pytest.mark.parametrize(
    ("path", "action", "level", "subjects"),
    [
        ("", "enroll", 1, 3),
        ("1N", "enroll", 1, 2),
        ("1NNX", "enroll", 1, 1),
        ("1NNP", "hold", None, None),
        ("1NNN", "escalate", 2, 3),
        ("1NGN", "escalate", 2, 3),
        ("1NNT", "enroll", 1, 3),  # 1/3 is between the boundaries: stay
        ("1NTT", "enroll", 1, 3),  # de-escalate at the lowest level means stay
        ("1TTT", "stop", None, None),  # level 1 eliminated
        ("1TTP", "hold", None, None),  # a complete cohort waits for its pending subject
        ("1NNN 2NTT", "enroll", 1, 3),
        ("1NNN 2TTT", "enroll", 1, 3),  # level 2 eliminated: de-escalate
        ("1NNN 2TTT 1NNN", "enroll", 1, 3),  # never escalate into an eliminated level
        ("1NNN 2NNN 3NNN", "enroll", 3, 3),  # escalation beyond the top level means stay
        ("1NNN 2NNN 3TTN", "enroll", 2, 3),
        ("1NNN 2NNN 3TTN 2NNN", "escalate", 3, 3),
        ("1NNN 2NNN 3TTT 2NNN", "enroll", 2, 3),
        ("1NNN 2NNN 3NNN 3NTN 3NNT 3NNN", "declare_mtd", 3, None),
        ("1NNN 2NNN 3NNN 3TTN 2NNN 2NTN", "declare_mtd", 3, None),
        ("1NNN 2NNN 3NNN 3TTN 2NNN 2NTP", "hold", None, None),
        ("1NNN 2NTN 2NTT 1NTN 1NNN 1TTN", "declare_mtd", 1, None),
        ("1NNN 1NNN 2NNN 2NNN 2NNN 3TTT", "declare_mtd", 2, None),  # the last cohort eliminates level 3
        ("1NNN 1NNN 2NNN 2NNN 3TTT", "enroll", 2, 3),
    ],
)
def test_next_boin_decision(path, action, level, subjects):
    decision = next_boin_decision(path, PROTOCOL)
    assert (decision.action, decision.dose_level, decision.subjects) == (action, level, subjects)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("1NNN", "0 DLT in 3 evaluable subjects at level 1: observed DLT rate 0.000 ≤ λe 0.2365: escalate to level 2"),
        (
            "1NNT",
            "1 DLT in 3 evaluable subjects at level 1: observed DLT rate 0.333 between λe 0.2365 and λd 0.3585: "
            "stay at level 1",
        ),
        (
            "1NNN 2NTT",
            "2 DLT in 3 evaluable subjects at level 2: observed DLT rate 0.667 ≥ λd 0.3585: de-escalate to level 1",
        ),
        (
            "1TTT",
            "3 DLT in 3 evaluable subjects at level 1: P(DLT rate > 0.3) = 0.992 > 0.95, "
            "so level 1 and above are eliminated: no tolerable dose",
        ),
        (
            "1NNN 2NNN 3NNN 3TTN 2NNN 2NTN",
            "All 18 subjects dosed: isotonic DLT-rate estimates level 1 0.016, level 2 0.115, level 3 0.336; "
            "closest to the target 0.3: level 3",
        ),
    ],
)
def test_boin_reasons(path, reason):
    assert next_boin_decision(path, PROTOCOL).reason == reason


def test_cohort_size_and_number_of_cohorts_are_options():
    small = options(cohort_size=2, n_cohorts=2)

    assert next_boin_decision("", small).subjects == 2
    assert next_boin_decision("1NN", small).action == "escalate"
    assert next_boin_decision("1NN 2NN", small).action == "declare_mtd"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"target": 0.8}, "target must lie strictly between 0 and 1/1.4 (≈ 0.714)"),
        ({"cohort_size": 0}, "cohort_size must be a whole number ≥ 1"),
        ({"n_cohorts": 1.5}, "n_cohorts must be a whole number ≥ 1"),
        ({"elimination_cutoff": 1}, "elimination_cutoff must lie strictly between 0 and 1"),
    ],
)
def test_invalid_boin_options_are_refused(overrides, message):
    with pytest.raises(ConfigError) as raised:
        options(**overrides)
    assert str(raised.value) == message
