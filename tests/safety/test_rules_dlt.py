"""DLT candidate flagging (PROTOCOL.md §6 defaults) at every edge of every rule."""

from dataclasses import replace
from decimal import Decimal

import pytest

from ctit_trial.protocol_config import protocol_config
from safety.rules.catalogue import TermFlags, load_catalogue
from safety.rules.dlt import (
    AdverseEventFacts,
    DltFlag,
    DltRulesError,
    dlt_rules_from_mapping,
    flag_dlt_candidate,
    is_related,
    load_dlt_rules,
)

CATALOGUE = load_catalogue()
RULES = load_dlt_rules()
WINDOW_DAYS = protocol_config()["scheduling"]["dlt_window_days"]


def facts(term: str, grade: int, *, day: int = 5, related: bool = True, **extra) -> AdverseEventFacts:
    return AdverseEventFacts(
        grade=grade, related=related, onset_study_day=day, flags=CATALOGUE.term(term).flags, **extra
    )


def flag(ae: AdverseEventFacts) -> DltFlag:
    return flag_dlt_candidate(ae, rules=RULES, window_days=WINDOW_DAYS)


def candidate_rule(ae: AdverseEventFacts) -> str | None:
    result = flag(ae)
    assert result.is_candidate == (result.rule is not None)
    return result.rule


def test_seeded_rules_match_protocol_defaults():
    assert WINDOW_DAYS == 28
    assert RULES.related_levels == frozenset({"definitely", "probably", "possibly"})
    assert [(rule.name, rule.flag, rule.min_grade) for rule in RULES.flag_rules] == [
        ("grade_5", None, 5),
        ("anaphylaxis", "is_anaphylaxis", 1),
        ("acute_gvhd", "is_gvhd", 1),
        ("thromboembolic_event", "is_thromboembolic", 2),
        ("cytokine_release_syndrome", "is_crs", 3),
        ("infusion_related_reaction", "is_infusion_reaction", 3),
        ("allergic_reaction", "is_allergic", 3),
    ]
    assert (RULES.prolonged_neutropenia.min_grade, RULES.prolonged_neutropenia.longer_than_days) == (4, 7)
    non_hematologic = RULES.non_hematologic
    assert non_hematologic.min_grade == 3
    assert non_hematologic.fever_resolved_within_hours == Decimal(72)
    assert (non_hematologic.lab_exception_grade, non_hematologic.lab_resolved_within_days) == (3, 7)


@pytest.mark.parametrize(
    ("relatedness", "related"),
    [
        ("definitely", True),
        ("probably", True),
        ("possibly", True),
        ("Possibly ", True),
        ("unlikely", False),
        ("not related", False),
    ],
)
def test_five_point_relatedness(relatedness, related):
    assert is_related(relatedness, rules=RULES) is related


@pytest.mark.parametrize(("day", "expected"), [(-1, None), (0, "non_hematologic"), (28, "non_hematologic"), (29, None)])
def test_onset_window_d0_to_d28(day, expected):
    assert candidate_rule(facts("alt_increased", 4, day=day)) == expected


def test_onset_outside_window_reason():
    assert flag(facts("alt_increased", 4, day=29)) == DltFlag(False, None, "onset D29 is outside the DLT window D0…D28")


@pytest.mark.parametrize(
    ("relatedness", "expected"), [("possibly", "non_hematologic"), ("unlikely", None), ("not related", None)]
)
def test_only_related_aes_are_candidates(relatedness, expected):
    ae = facts("epistaxis", 3, related=is_related(relatedness, rules=RULES))
    assert candidate_rule(ae) == expected


def test_unrelated_reason():
    assert flag(facts("anaphylaxis", 4, related=False)) == DltFlag(False, None, "not related to the study product")


@pytest.mark.parametrize(("grade", "expected"), [(1, None), (2, None), (3, "non_hematologic"), (4, "non_hematologic")])
def test_non_hematologic_grade_2_vs_3(grade, expected):
    assert candidate_rule(facts("epistaxis", grade)) == expected


def test_non_hematologic_candidate_reason():
    assert flag(facts("intracranial_hemorrhage", 3, day=12)) == DltFlag(
        True, "non_hematologic", "grade 3 non-hematologic AE; related; onset D12"
    )


@pytest.mark.parametrize(
    ("grade", "expected"), [(2, None), (3, "infusion_related_reaction"), (4, "infusion_related_reaction")]
)
def test_infusion_related_reaction_grade_3(grade, expected):
    assert candidate_rule(facts("infusion_related_reaction", grade, day=0)) == expected


@pytest.mark.parametrize(("grade", "expected"), [(2, None), (3, "allergic_reaction")])
def test_allergic_reaction_grade_3(grade, expected):
    assert candidate_rule(facts("allergic_reaction", grade)) == expected


@pytest.mark.parametrize("grade", [1, 3, 4])
def test_any_anaphylaxis(grade):
    assert candidate_rule(facts("anaphylaxis", grade)) == "anaphylaxis"


@pytest.mark.parametrize(("grade", "expected"), [(1, None), (2, "thromboembolic_event"), (3, "thromboembolic_event")])
def test_thromboembolic_event_1_vs_2(grade, expected):
    assert candidate_rule(facts("thromboembolic_event", grade)) == expected


def test_thromboembolic_reason():
    assert flag(facts("thromboembolic_event", 2, day=3)).reason == (
        "thromboembolic event grade 2 (≥ 2); related; onset D3"
    )


@pytest.mark.parametrize(("grade", "expected"), [(2, None), (3, "cytokine_release_syndrome")])
def test_cytokine_release_syndrome_grade_3(grade, expected):
    assert candidate_rule(facts("cytokine_release_syndrome", grade)) == expected


@pytest.mark.parametrize("grade", [1, 2])
def test_any_acute_gvhd(grade):
    assert candidate_rule(facts("graft_versus_host_disease", grade)) == "acute_gvhd"


@pytest.mark.parametrize(
    ("term", "grade"), [("platelet_count_decreased", 5), ("anemia", 5), ("epistaxis", 5), ("fever", 5)]
)
def test_any_grade_5(term, grade):
    assert candidate_rule(facts(term, grade, resolved_within_hours=1)) == "grade_5"


@pytest.mark.parametrize(
    ("grade", "days", "expected"),
    [
        (4, 7, None),
        (4, 8, "prolonged_neutropenia"),
        (4, 30, "prolonged_neutropenia"),
        (4, None, None),  # duration unknown: the caller passes the duration so far
        (3, 8, None),
    ],
)
def test_grade_4_neutropenia_longer_than_7_days(grade, days, expected):
    assert candidate_rule(facts("neutrophil_count_decreased", grade, neutropenia_duration_days=days)) == expected


def test_neutropenia_reason():
    ae = facts("neutrophil_count_decreased", 4, day=6, neutropenia_duration_days=8)
    assert flag(ae) == DltFlag(True, "prolonged_neutropenia", "grade 4 neutropenia for 8 d > 7 d; related; onset D6")


@pytest.mark.parametrize(
    ("term", "grade"), [("platelet_count_decreased", 3), ("platelet_count_decreased", 4), ("anemia", 3), ("anemia", 4)]
)
def test_hematologic_grade_3_4_are_not_candidates(term, grade):
    assert flag(facts(term, grade)) == DltFlag(False, None, f"grade {grade} hematologic AE meets no DLT rule")


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (24, None),
        (72, None),
        ("72.0", None),
        (73, "non_hematologic"),
        ("72.5", "non_hematologic"),
        (None, "non_hematologic"),
    ],
)
def test_fever_resolving_within_72_hours_is_excepted(hours, expected):
    hours = Decimal(hours) if isinstance(hours, str) else hours
    assert candidate_rule(facts("fever", 3, resolved_within_hours=hours)) == expected


def test_fever_exception_reason():
    assert flag(facts("fever", 4, resolved_within_hours=72)) == DltFlag(
        False, None, "excepted: fever resolved within 72 h (≤ 72 h)"
    )


@pytest.mark.parametrize(
    ("grade", "days", "without_sequelae", "expected"),
    [
        (3, 7, True, None),
        (3, 0, True, None),
        (3, 8, True, "non_hematologic"),
        (3, 7, False, "non_hematologic"),
        (3, None, True, "non_hematologic"),
        (4, 1, True, "non_hematologic"),
    ],
)
def test_grade_3_lab_resolving_within_7_days_without_sequelae(grade, days, without_sequelae, expected):
    ae = facts("alt_increased", grade, resolved_within_days=days, resolved_without_sequelae=without_sequelae)
    assert candidate_rule(ae) == expected


def test_lab_exception_reason():
    ae = facts("creatinine_increased", 3, resolved_within_days=7, resolved_without_sequelae=True)
    assert flag(ae).reason == "excepted: grade 3 lab abnormality resolved within 7 d (≤ 7 d) without sequelae"


def test_lab_exception_does_not_apply_to_clinical_terms():
    ae = facts("epistaxis", 3, resolved_within_days=1, resolved_without_sequelae=True)
    assert candidate_rule(ae) == "non_hematologic"


def test_specific_rule_named_before_the_general_one():
    assert candidate_rule(facts("cytokine_release_syndrome", 4)) == "cytokine_release_syndrome"
    assert candidate_rule(facts("anaphylaxis", 5)) == "grade_5"


def test_manually_chosen_term_defaults_to_non_hematologic():
    assert candidate_rule(AdverseEventFacts(grade=3, related=True, onset_study_day=2)) == "non_hematologic"


@pytest.mark.parametrize("grade", [0, 6])
def test_grade_out_of_range_is_refused(grade):
    with pytest.raises(ValueError, match=f"A CTCAE grade is 1–5, not {grade}."):
        AdverseEventFacts(grade=grade, related=True, onset_study_day=1)


def test_rules_are_configurable():
    # given a protocol with a 21-day DLT window and neutropenia counting after 5 days
    rules = replace(RULES, prolonged_neutropenia=replace(RULES.prolonged_neutropenia, longer_than_days=5))
    ae = facts("neutrophil_count_decreased", 4, day=21, neutropenia_duration_days=6)
    # then
    assert flag_dlt_candidate(ae, rules=rules, window_days=21).rule == "prolonged_neutropenia"
    assert flag_dlt_candidate(replace(ae, onset_study_day=22), rules=rules, window_days=21).rule is None


def test_unknown_flag_in_rules_is_refused():
    data = {
        "related_levels": ["possibly"],
        "flag_rules": [{"name": "x", "flag": "is_purple", "min_grade": 1}],
        "prolonged_neutropenia": {"min_grade": 4, "longer_than_days": 7},
        "non_hematologic": {
            "min_grade": 3,
            "fever_resolved_within_hours": 72,
            "lab_exception_grade": 3,
            "lab_resolved_within_days": 7,
        },
    }
    with pytest.raises(DltRulesError, match=r"Unknown term flags in flag_rules: \['is_purple'\]"):
        dlt_rules_from_mapping(data)


def test_term_flags_default():
    assert TermFlags().category == "non_hematologic"
