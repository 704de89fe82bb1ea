"""CTCAE v5.0 catalogue loading and automatic grading of lab values and fever (CTCAE.md test vectors)."""

from decimal import Decimal

import pytest

from safety.rules.catalogue import (
    CatalogueError,
    TermFlags,
    UnknownTerm,
    catalogue_from_mapping,
    load_catalogue,
    to_decimal,
)
from safety.rules.grading import GradingInputError, LabGrade, grade_fever, grade_lab

CATALOGUE = load_catalogue()


def grade(term: str, value, **references) -> int | None:
    return grade_lab(term, value, catalogue=CATALOGUE, **references).grade


# ---- the catalogue ---------------------------------------------------------------------------------------------

EXPECTED_TERMS = [
    ("platelet_count_decreased", "Platelet count decreased", "10035528", "Investigations", "hematologic"),
    ("neutrophil_count_decreased", "Neutrophil count decreased", "10029366", "Investigations", "hematologic"),
    ("anemia", "Anemia", "10002272", "Blood and lymphatic system disorders", "hematologic"),
    ("alt_increased", "Alanine aminotransferase increased", "10001551", "Investigations", "non_hematologic"),
    ("ast_increased", "Aspartate aminotransferase increased", "10003481", "Investigations", "non_hematologic"),
    ("blood_bilirubin_increased", "Blood bilirubin increased", "10005364", "Investigations", "non_hematologic"),
    ("creatinine_increased", "Creatinine increased", "10011368", "Investigations", "non_hematologic"),
    ("inr_increased", "INR increased", "10022402", "Investigations", "non_hematologic"),
    (
        "aptt_prolonged",
        "Activated partial thromboplastin time prolonged",
        "10000636",
        "Investigations",
        "non_hematologic",
    ),
    (
        "infusion_related_reaction",
        "Infusion related reaction",
        "10051792",
        "Injury, poisoning and procedural complications",
        "non_hematologic",
    ),
    ("allergic_reaction", "Allergic reaction", "10001718", "Immune system disorders", "non_hematologic"),
    ("anaphylaxis", "Anaphylaxis", "10002198", "Immune system disorders", "non_hematologic"),
    ("fever", "Fever", "10016558", "General disorders and administration site conditions", "non_hematologic"),
    ("thromboembolic_event", "Thromboembolic event", "10043565", "Vascular disorders", "non_hematologic"),
    (
        "cytokine_release_syndrome",
        "Cytokine release syndrome",
        "10052015",
        "Immune system disorders",
        "non_hematologic",
    ),
    (
        "graft_versus_host_disease",
        "Graft versus host disease",
        "10018651",
        "Immune system disorders",
        "non_hematologic",
    ),
    ("epistaxis", "Epistaxis", "10015090", "Respiratory, thoracic and mediastinal disorders", "non_hematologic"),
    ("gastric_hemorrhage", "Gastric hemorrhage", "10017789", "Gastrointestinal disorders", "non_hematologic"),
    ("oral_hemorrhage", "Oral hemorrhage", "10030980", "Gastrointestinal disorders", "non_hematologic"),
    ("intracranial_hemorrhage", "Intracranial hemorrhage", "10022763", "Nervous system disorders", "non_hematologic"),
    ("hematuria", "Hematuria", "10019450", "Renal and urinary disorders", "non_hematologic"),
]


@pytest.mark.parametrize(("code", "name", "meddra", "soc", "category"), EXPECTED_TERMS, ids=lambda v: str(v))
def test_catalogue_term_identity(code, name, meddra, soc, category):
    term = CATALOGUE.term(code)
    assert (term.name, term.meddra_code, term.soc, term.flags.category) == (name, meddra, soc, category)


def test_catalogue_version_is_5_0():
    assert CATALOGUE.version == "5.0"


@pytest.mark.parametrize(
    ("code", "flags"),
    [
        ("neutrophil_count_decreased", TermFlags(category="hematologic", is_lab=True, is_neutropenia=True)),
        ("platelet_count_decreased", TermFlags(category="hematologic", is_lab=True)),
        ("alt_increased", TermFlags(is_lab=True)),
        ("infusion_related_reaction", TermFlags(is_infusion_reaction=True)),
        ("allergic_reaction", TermFlags(is_allergic=True)),
        ("anaphylaxis", TermFlags(is_anaphylaxis=True, is_allergic=True)),
        ("fever", TermFlags(is_fever=True)),
        ("thromboembolic_event", TermFlags(is_thromboembolic=True)),
        ("cytokine_release_syndrome", TermFlags(is_crs=True)),
        ("graft_versus_host_disease", TermFlags(is_gvhd=True)),
        ("epistaxis", TermFlags(is_hemorrhage=True)),
    ],
)
def test_catalogue_flags_for_dlt_rules(code, flags):
    assert CATALOGUE.term(code).flags == flags


def test_lookup_by_meddra_code_as_int_or_str():
    assert CATALOGUE.term(10035528).code == "platelet_count_decreased"
    assert CATALOGUE.term("10022402").code == "inr_increased"


def test_unknown_term_raises():
    with pytest.raises(UnknownTerm, match="No CTCAE v5.0 term has the code 'hiccups'"):
        CATALOGUE.term("hiccups")


def test_grade_definitions_text():
    fever = CATALOGUE.term("fever")
    assert fever.grades == (1, 2, 3, 4, 5)
    assert fever.definition(3) == ">40.0 degrees C (>104.0 degrees F) for <=24 hrs"
    assert CATALOGUE.term("anaphylaxis").grades == (3, 4, 5)
    assert CATALOGUE.term("gastric_hemorrhage").definition(2) == "Moderate symptoms; intervention indicated"
    with pytest.raises(UnknownTerm):
        CATALOGUE.term("anaphylaxis").definition(1)


def test_every_term_has_grade_definitions_and_value_graded_terms_have_rules():
    for term in CATALOGUE.terms:
        assert term.grade_definitions, term.code
        assert (term.lab is not None) == term.flags.is_lab
    assert CATALOGUE.term("fever").temperature is not None


def _seed(**term_overrides) -> dict:
    term = {
        "name": "X",
        "meddra_code": "1",
        "soc": "S",
        "category": "non_hematologic",
        "grades": {1: "mild"},
    }
    term.update(term_overrides)
    return {"ctcae_version": "5.0", "terms": {"x": term}}


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (_seed(category="other"), "category must be one of"),
        (_seed(flags=["is_purple"]), r"unknown flags \['is_purple'\]"),
        (_seed(meddra_code="abc"), "meddra_code must be digits"),
        (
            _seed(lab={"direction": "up", "criteria": []}),
            "direction must be low or high",
        ),
        (
            _seed(lab={"direction": "high", "criteria": [{"when": "sometimes", "thresholds": []}]}),
            "unknown condition 'sometimes'",
        ),
        (
            _seed(
                lab={"direction": "high", "criteria": [{"when": "always", "thresholds": [{"grade": 1, "op": "=="}]}]}
            ),
            "op must be one of",
        ),
        (
            _seed(
                lab={
                    "direction": "high",
                    "criteria": [
                        {
                            "when": "always",
                            "thresholds": [
                                {"grade": 2, "op": ">", "value": "2"},
                                {"grade": 1, "op": ">", "value": "1"},
                            ],
                        }
                    ],
                }
            ),
            r"grades must ascend, got \[2, 1\]",
        ),
        (
            _seed(
                lab={
                    "direction": "high",
                    "criteria": [
                        {"when": "always", "thresholds": [{"grade": 1, "op": ">", "of": "mean", "factor": 1}]}
                    ],
                }
            ),
            "`of` must be one of",
        ),
    ],
)
def test_malformed_catalogue_is_refused(seed, message):
    with pytest.raises(CatalogueError, match=message):
        catalogue_from_mapping(seed)


def test_duplicate_meddra_codes_are_refused():
    seed = _seed()
    seed["terms"]["y"] = dict(seed["terms"]["x"])
    with pytest.raises(CatalogueError, match="Two terms share a MedDRA code"):
        catalogue_from_mapping(seed)


@pytest.mark.parametrize(
    ("raw", "exact"),
    [(39.1, Decimal("39.1")), (0.1, Decimal("0.1")), (120, Decimal(120)), ("1.5", Decimal("1.5"))],
)
def test_to_decimal_is_exact(raw, exact):
    assert to_decimal(raw) == exact


@pytest.mark.parametrize(
    ("raw", "error"), [(True, TypeError), (None, TypeError), (float("nan"), ValueError), ("x", ValueError)]
)
def test_to_decimal_refuses_non_numbers(raw, error):
    with pytest.raises(error):
        to_decimal(raw)


# ---- lab grading: CTCAE.md and PROTOCOL.md vectors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(24, 4), (25, 3), (49, 3), (50, 2), (74, 2), (75, 1), (99, 1), (100, None), (150, None), (0, 4)],
)
def test_platelet_count_decreased_lln_100(value, expected):
    assert grade("platelet_count_decreased", value, lln=100) == expected


def test_platelet_value_inside_a_low_reference_range_is_not_graded():
    # LLN 70 (unusual): 72 is normal for this lab, although < 75; grades are cumulative from the LLN.
    assert grade("platelet_count_decreased", 72, lln=70) is None
    assert grade("platelet_count_decreased", 69, lln=70) == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2.0", None), ("1.9", 1), ("1.5", 1), ("1.49", 2), ("1.0", 2), ("0.99", 3), ("0.5", 3), ("0.49", 4)],
)
def test_neutrophil_count_decreased_lln_2_0(value, expected):
    assert grade("neutrophil_count_decreased", value, lln="2.0") == expected


@pytest.mark.parametrize(("value", "expected"), [(130, None), (129, 1), (100, 1), (99, 2), (80, 2), (79, 3), (40, 3)])
def test_anemia_lln_130_never_grade_4_from_a_value(value, expected):
    assert grade("anemia", value, lln=130) == expected


@pytest.mark.parametrize("term", ["alt_increased", "ast_increased"])
@pytest.mark.parametrize("baseline", [None, 30, 40])
@pytest.mark.parametrize(
    ("value", "expected"),
    [(40, None), (41, 1), (120, 1), (121, 2), (200, 2), (201, 3), (800, 3), (801, 4)],
)
def test_transaminases_uln_40_normal_baseline(term, baseline, value, expected):
    assert grade(term, value, uln=40, baseline=baseline) == expected


@pytest.mark.parametrize("term", ["alt_increased", "ast_increased"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [(80, None), (119, None), (120, 1), (240, 1), (241, 2), (400, 2), (401, 3), (1600, 3), (1601, 4)],
)
def test_transaminases_uln_40_abnormal_baseline_80(term, value, expected):
    assert grade(term, value, uln=40, baseline=80) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(20, None), (21, 1), (30, 1), (31, 2), (60, 2), (61, 3), (200, 3), (201, 4)],
)
def test_bilirubin_uln_20_normal_baseline(value, expected):
    assert grade("blood_bilirubin_increased", value, uln=20, baseline=15) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(30, None), (31, 1), (45, 1), (46, 2), (90, 2), (91, 3), (300, 3), (301, 4)],
)
def test_bilirubin_uln_20_abnormal_baseline_30(value, expected):
    assert grade("blood_bilirubin_increased", value, uln=20, baseline=30) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(100, None), (101, 1), (150, 1), (151, 2), (300, 2), (301, 3), (600, 3), (601, 4)],
)
def test_creatinine_uln_100_without_baseline(value, expected):
    assert grade("creatinine_increased", value, uln=100) == expected


@pytest.mark.parametrize(
    ("value", "baseline", "expected"),
    [
        (60, 40, None),  # 1.5× baseline exactly, inside the range
        (61, 40, 2),  # > 1.5× baseline beats "normal by ULN"
        (120, 40, 2),  # ULN grade 1, baseline 3.0× → grade 2
        (121, 40, 3),  # > 3.0× baseline → grade 3, worse than ULN grade 1
        (101, 90, 1),  # ULN grade 1, baseline 1.12×
        (136, 90, 2),  # > 1.5× baseline 90 = 135
        (601, 300, 4),  # ULN grade 4 beats baseline grade 2
    ],
)
def test_creatinine_takes_the_worse_of_uln_and_baseline(value, baseline, expected):
    assert grade("creatinine_increased", value, uln=100, baseline=baseline) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("1.0", None), ("1.2", None), ("1.3", 1), ("1.5", 1), ("1.6", 2), ("2.5", 2), ("2.6", 3)]
)
def test_inr_absolute(value, expected):
    assert grade("inr_increased", value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("2.0", None), ("2.1", 1), ("3.0", 1), ("3.1", 2), ("5.0", 2), ("5.1", 3)]
)
def test_inr_on_anticoagulation_relative_to_baseline_2_0(value, expected):
    assert grade("inr_increased", value, baseline="2.0", on_anticoagulation=True) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(37, None), (40, 1), ("55.5", 1), (56, 2), ("92.5", 2), (93, 3), (200, 3)]
)
def test_aptt_uln_37(value, expected):
    assert grade("aptt_prolonged", value, uln=37) == expected


@pytest.mark.parametrize(
    ("term", "value", "references", "expected"),
    [
        ("alt_increased", 120.0, {"uln": 40.0}, 1),  # 3.0 × 40 = 120 exactly
        ("alt_increased", 120.00000001, {"uln": 40.0}, 2),
        ("aptt_prolonged", 55.5, {"uln": 37.0}, 1),  # 1.5 × 37 = 55.5 exactly
        ("inr_increased", 1.5, {}, 1),
        ("blood_bilirubin_increased", 1.05, {"uln": 0.7}, 1),  # binary 1.5 × 0.7 = 1.0499999999999998
        ("blood_bilirubin_increased", 2.1, {"uln": 0.7}, 2),  # binary 3.0 × 0.7 = 2.0999999999999996
        ("inr_increased", 1.65, {"baseline": 1.1, "on_anticoagulation": True}, 1),  # 1.5 × 1.1 = 1.65 exactly
        ("platelet_count_decreased", 74.99999, {"lln": 100}, 2),
    ],
)
def test_float_inputs_have_no_boundary_errors(term, value, references, expected):
    assert grade(term, value, **references) == expected


def test_grade_carries_reason_and_ctcae_version():
    assert grade_lab("platelet_count_decreased", 49, lln=100, catalogue=CATALOGUE) == LabGrade(
        3, "Platelet count decreased 49: < 50 → grade 3", "5.0"
    )
    assert grade_lab("alt_increased", 121, uln=40, catalogue=CATALOGUE) == LabGrade(
        2, "Alanine aminotransferase increased 121: > 120 (3.0×ULN 40) → grade 2", "5.0"
    )
    assert grade_lab("alt_increased", 119, uln=40, baseline=80, catalogue=CATALOGUE).reason == (
        "Alanine aminotransferase increased 119: not >= 120 (1.5×baseline 80) (grade 1) → not graded"
    )
    assert grade_lab("creatinine_increased", 121, uln=100, baseline=40, catalogue=CATALOGUE).reason == (
        "Creatinine increased 121: always: > 100 (1.0×ULN 100); baseline_given: > 120 (3.0×baseline 40) → grade 3"
    )


def test_lookup_by_meddra_code_grades_the_same():
    assert grade_lab(10001551, 801, uln=40, catalogue=CATALOGUE).grade == 4


@pytest.mark.parametrize(
    ("term", "references", "message"),
    [
        ("alt_increased", {}, "Alanine aminotransferase increased needs the ULN to grade this value."),
        ("alt_increased", {"baseline": 80}, "Alanine aminotransferase increased needs the ULN"),
        ("platelet_count_decreased", {}, "Platelet count decreased needs the LLN to grade this value."),
        ("inr_increased", {"on_anticoagulation": True}, "INR increased needs the baseline to grade this value."),
    ],
)
def test_missing_reference_raises(term, references, message):
    with pytest.raises(GradingInputError, match=message):
        grade_lab(term, 50, catalogue=CATALOGUE, **references)


def test_platelet_value_below_absolute_thresholds_still_needs_the_lln():
    with pytest.raises(GradingInputError):
        grade_lab("platelet_count_decreased", 10, catalogue=CATALOGUE)


def test_clinical_term_is_not_value_graded():
    with pytest.raises(GradingInputError, match="Epistaxis is not graded from a lab value."):
        grade_lab("epistaxis", 1, catalogue=CATALOGUE)


# ---- fever -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("temperature", "hours", "expected"),
    [
        ("37.9", None, None),
        ("38.0", None, 1),
        ("39.0", None, 1),
        ("39.1", None, 2),
        ("40.0", None, 2),
        ("40.0", 48, 2),  # not above 40.0, so duration is irrelevant
        ("40.1", 24, 3),
        ("40.1", "24.0", 3),
        ("40.1", "24.5", 4),
        ("40.1", 25, 4),
        ("40.1", None, 3),
        ("41.5", 1, 3),
    ],
)
def test_fever_grades(temperature, hours, expected):
    assert grade_fever(temperature, sustained_hours=hours, catalogue=CATALOGUE).grade == expected


def test_fever_float_boundaries():
    assert grade_fever(39.0, catalogue=CATALOGUE).grade == 1
    assert grade_fever(39.1, catalogue=CATALOGUE).grade == 2


@pytest.mark.parametrize(
    ("temperature", "hours", "reason"),
    [
        ("37.9", None, "Fever 37.9 °C: not >= 38.0 (grade 1) → not graded"),
        ("39.1", None, "Fever 39.1 °C: > 39.0 → grade 2"),
        ("40.1", None, "Fever 40.1 °C: > 40.0, duration not given (grade 4 if > 24 h) → grade 3"),
        ("40.1", 30, "Fever 40.1 °C: > 40.0 for 30 h > 24 h → grade 4"),
        ("40.1", 24, "Fever 40.1 °C: > 40.0 for 24 h ≤ 24 h → grade 3"),
    ],
)
def test_fever_reasons(temperature, hours, reason):
    result = grade_fever(temperature, sustained_hours=hours, catalogue=CATALOGUE)
    assert (result.reason, result.ctcae_version) == (reason, "5.0")


def test_fever_grading_on_a_term_without_temperature_rules_raises():
    with pytest.raises(GradingInputError, match="Anemia is not graded from a temperature."):
        grade_fever(39, catalogue=CATALOGUE, term_code="anemia")
