"""The live trial as a dose path: each dosed subject's outcome letter, derived from current data (no clock).

A subject is evaluable with a DLT (T), or after completing the DLT window without one (N, or G with a related
grade ≥2 AE). A subject whose infusion stopped for a non-toxicity reason, or who left the trial (withdrawal, loss
to follow-up, death, investigator decision) on or before the window's last day without a DLT, is not evaluable (X)
and is replaced at the same level (PROTOCOL.md §4.1); a DLT before leaving still counts (T).
An unadjudicated DLT candidate keeps the subject pending (P): it holds its level's decisions, as
does an infusion stopped for toxicity until the AE that stopped it is recorded (it may be a DLT).
"""

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class DosedSubject:
    """What the escalation engine needs to know about one dosed subject."""

    subject_id: int
    level: int
    d0: date  # site-local infusion day
    window_complete: bool  # the DLT window has ended (site-local days, see `window_complete`)
    dlt_confirmed: bool = False
    related_grade2: bool = False
    non_evaluable: bool = (
        False  # infusion stopped for a non-toxicity reason, or left on or before the window's last day
    )
    unadjudicated_candidates: int = 0
    toxicity_stop_unexplained: bool = False  # stopped for toxicity, the AE that stopped it not yet recorded


def window_last_day(d0: date, *, window_days: int) -> date:
    """The last site-local day of the DLT window (D0 + window days)."""
    return d0 + timedelta(days=window_days)


def window_complete(d0: date, *, today: date, window_days: int) -> bool:
    """Whether the DLT window has ended by a site-local day (it includes its last day)."""
    return today > window_last_day(d0, window_days=window_days)


def outcome_letter(subject: DosedSubject) -> str:
    """T, X, P, G or N for one dosed subject."""
    if subject.dlt_confirmed:
        return "T"
    if subject.unadjudicated_candidates or subject.toxicity_stop_unexplained:
        return "P"
    if subject.non_evaluable:
        return "X"
    if not subject.window_complete:
        return "P"
    return "G" if subject.related_grade2 else "N"


def dose_path(subjects: list[DosedSubject]) -> str:
    """The dose path of PROTOCOL.md §4.2 for subjects given in dosing order ("1N 2NNP")."""
    tokens: list[list] = []
    for subject in subjects:
        letter = outcome_letter(subject)
        if tokens and tokens[-1][0] == subject.level:
            tokens[-1][1] += letter
        else:
            tokens.append([subject.level, letter])
    return " ".join(f"{level}{letters}" for level, letters in tokens)


def what_if_path(path: str, *, level: int, letter: str) -> str:
    """The path if one more subject dosed at `level` had outcome `letter`."""
    if path.split(" ")[-1][:1] == str(level) and path:
        return f"{path}{letter}"
    return f"{path} {level}{letter}".strip()
