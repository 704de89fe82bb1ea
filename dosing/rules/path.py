"""Dose paths: `"1G 1NN 2NNN"` lists dosed subjects in dosing order, grouped as `<level><outcomes>` tokens.

Outcome letters (PROTOCOL.md §4.2): N evaluable, no DLT, no related grade ≥2 AE · G evaluable, no DLT, a related
grade ≥2 AE · T DLT · X not evaluable (to be replaced) · P dosed, DLT window still open, no DLT so far.
Tokens are separated by whitespace (any amount); letters are upper case only, and any other character —
a comma, a lower-case letter — is an unknown letter. Levels need not be contiguous (what-if paths may skip one).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

OUTCOME_LETTERS = "NGTXP"
_TOKEN = re.compile(r"([0-9]*)(.*)", re.DOTALL)


class DosePathError(ValueError):
    """A dose path that cannot be read; `token` is the offending token."""

    def __init__(self, message: str, *, token: str) -> None:
        super().__init__(message)
        self.message = message
        self.token = token


@dataclass(frozen=True)
class DoseToken:
    """Subjects dosed one after another at one level, with their outcomes in dosing order."""

    level: int
    outcomes: str


@dataclass(frozen=True)
class LevelCounts:
    """Dosed subjects at one level, counted by outcome."""

    level: int
    no_dlt: int = 0
    related_grade2: int = 0
    dlts: int = 0
    not_evaluable: int = 0
    pending: int = 0

    @property
    def evaluable(self) -> int:
        """Subjects with a DLT, or who completed the window without one (N, G, T)."""
        return self.no_dlt + self.related_grade2 + self.dlts

    @property
    def active(self) -> int:
        """Dosed subjects who count towards the level: evaluable or still pending (X is replaced)."""
        return self.evaluable + self.pending

    @property
    def dosed(self) -> int:
        """Every subject dosed at the level, including the not evaluable."""
        return self.active + self.not_evaluable


def parse_dose_path(path: str, *, n_levels: int) -> tuple[DoseToken, ...]:
    """The tokens of a dose path, in dosing order; raises DosePathError naming a malformed token."""
    return tuple(_parse_token(token, n_levels) for token in path.split())


def _parse_token(token: str, n_levels: int) -> DoseToken:
    digits, outcomes = _TOKEN.fullmatch(token).groups()
    if not digits:
        raise DosePathError(f'Token "{token}" does not start with a dose level (1 to {n_levels})', token=token)
    level = int(digits)
    if not 1 <= level <= n_levels:
        raise DosePathError(f'Token "{token}" names dose level {level}; levels run from 1 to {n_levels}', token=token)
    if not outcomes:
        raise DosePathError(f'Token "{token}" has no outcomes (letters {OUTCOME_LETTERS})', token=token)
    unknown = next((letter for letter in outcomes if letter not in OUTCOME_LETTERS), None)
    if unknown is not None:
        raise DosePathError(
            f'Token "{token}" has the unknown outcome letter "{unknown}" (allowed: {" ".join(OUTCOME_LETTERS)})',
            token=token,
        )
    return DoseToken(level, outcomes)


def count_by_level(tokens: Sequence[DoseToken], *, n_levels: int) -> tuple[LevelCounts, ...]:
    """Outcome counts for every level 1..n_levels (index 0 is level 1), levels without subjects included."""
    letters = dict.fromkeys(range(1, n_levels + 1), "")
    for token in tokens:
        letters[token.level] += token.outcomes
    return tuple(
        LevelCounts(
            level=level,
            no_dlt=outcomes.count("N"),
            related_grade2=outcomes.count("G"),
            dlts=outcomes.count("T"),
            not_evaluable=outcomes.count("X"),
            pending=outcomes.count("P"),
        )
        for level, outcomes in letters.items()
    )
