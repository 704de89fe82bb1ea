"""Dose-path parsing: tokens in dosing order, per-level counts, and errors that name the offending token."""

import pytest

from ctit_trial.protocol_config import protocol_config
from dosing.rules.path import DosePathError, DoseToken, LevelCounts, count_by_level, parse_dose_path

N_LEVELS = len(protocol_config()["dose_levels"])


@pytest.mark.parametrize(
    ("path", "tokens"),
    [
        ("", ()),
        ("   ", ()),
        ("1G 1NN 2NNN", (DoseToken(1, "G"), DoseToken(1, "NN"), DoseToken(2, "NNN"))),
        ("  1N \t 2NTX\n 3P ", (DoseToken(1, "N"), DoseToken(2, "NTX"), DoseToken(3, "P"))),
        (f"{N_LEVELS}NGTXP", (DoseToken(N_LEVELS, "NGTXP"),)),
        ("01N", (DoseToken(1, "N"),)),
    ],
)
def test_parse_keeps_tokens_in_dosing_order(path, tokens):
    assert parse_dose_path(path, n_levels=N_LEVELS) == tokens


@pytest.mark.parametrize(
    ("path", "token", "message"),
    [
        ("1N 2NQN", "2NQN", 'Token "2NQN" has the unknown outcome letter "Q" (allowed: N G T X P)'),
        ("1n", "1n", 'Token "1n" has the unknown outcome letter "n" (allowed: N G T X P)'),
        ("1N,2NNN", "1N,2NNN", 'Token "1N,2NNN" has the unknown outcome letter "," (allowed: N G T X P)'),
        ("1N 0NNN", "0NNN", f'Token "0NNN" names dose level 0; levels run from 1 to {N_LEVELS}'),
        (
            f"1N {N_LEVELS + 1}N",
            f"{N_LEVELS + 1}N",
            f'Token "{N_LEVELS + 1}N" names dose level {N_LEVELS + 1}; levels run from 1 to {N_LEVELS}',
        ),
        ("1N 2", "2", 'Token "2" has no outcomes (letters NGTXP)'),
        ("NNN", "NNN", f'Token "NNN" does not start with a dose level (1 to {N_LEVELS})'),
        ("1N -2N", "-2N", f'Token "-2N" does not start with a dose level (1 to {N_LEVELS})'),
    ],
)
def test_malformed_path_names_the_offending_token(path, token, message):
    with pytest.raises(DosePathError) as raised:
        parse_dose_path(path, n_levels=N_LEVELS)
    assert raised.value.token == token
    assert raised.value.message == message
    assert str(raised.value) == message


def test_the_number_of_levels_bounds_the_path():
    assert parse_dose_path("5N", n_levels=5) == (DoseToken(5, "N"),)
    with pytest.raises(DosePathError, match='"6N"'):
        parse_dose_path("5N 6N", n_levels=5)


def test_counts_cover_every_level_and_every_letter():
    tokens = parse_dose_path("1G 1NN 2NTXP 2T", n_levels=3)

    counts = count_by_level(tokens, n_levels=3)

    assert counts == (
        LevelCounts(1, no_dlt=2, related_grade2=1),
        LevelCounts(2, no_dlt=1, dlts=2, not_evaluable=1, pending=1),
        LevelCounts(3),
    )
    assert (counts[1].evaluable, counts[1].active, counts[1].dosed) == (3, 4, 5)
