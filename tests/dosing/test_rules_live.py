"""The live dose path: outcome letters from current data, in dosing order."""

from datetime import date

import pytest

from dosing.rules.live import DosedSubject, dose_path, outcome_letter, what_if_path, window_complete

D0 = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("facts", "today", "letter"),
    [
        ({}, date(2026, 4, 7), "P"),  # D28: window still open
        ({}, date(2026, 4, 8), "N"),  # D29: window completed without DLT
        ({"related_grade2": True}, date(2026, 4, 8), "G"),
        ({"dlt_confirmed": True}, date(2026, 3, 12), "T"),  # a DLT decides at once
        ({"non_evaluable": True}, date(2026, 3, 12), "X"),
        ({"non_evaluable": True, "dlt_confirmed": True}, date(2026, 3, 12), "T"),
        ({"unadjudicated_candidates": 1}, date(2026, 5, 1), "P"),  # a candidate holds the subject
    ],
)
def test_outcome_letter(facts, today, letter):
    complete = window_complete(D0, today=today, window_days=28)
    subject = DosedSubject(subject_id=1, level=1, d0=D0, window_complete=complete, **facts)

    assert outcome_letter(subject) == letter


def test_dose_path_groups_consecutive_subjects_by_level():
    subjects = [
        DosedSubject(1, 1, date(2026, 1, 1), window_complete=True),
        DosedSubject(2, 2, date(2026, 2, 10), window_complete=True, dlt_confirmed=True),
        DosedSubject(3, 2, date(2026, 3, 1), window_complete=True),
        DosedSubject(4, 2, date(2026, 3, 20), window_complete=False),
    ]

    assert dose_path(subjects) == "1N 2TNP"


def test_a_late_dlt_at_a_lower_level_changes_the_path():
    subjects = [
        DosedSubject(1, 1, date(2026, 1, 1), window_complete=True, dlt_confirmed=True),
        DosedSubject(2, 2, date(2026, 2, 10), window_complete=True),
    ]

    assert dose_path(subjects) == "1T 2N"


@pytest.mark.parametrize(
    ("path", "level", "letter", "expected"),
    [("", 1, "T", "1T"), ("1N", 2, "N", "1N 2N"), ("1N 2NN", 2, "T", "1N 2NNT"), ("1N 2TT", 1, "N", "1N 2TT 1N")],
)
def test_what_if_path(path, level, letter, expected):
    assert what_if_path(path, level=level, letter=letter) == expected
