"""Exclusion criteria from labs and serology (EX12–EX15) at their boundaries, with exact reasons."""

import pytest

from ctit_trial.protocol_config import protocol_config
from enrollment.rules import CriterionResult, EligibilityLimits
from tests.enrollment.documents import DELETE
from tests.enrollment.test_rules_eligibility import evaluate_changed


@pytest.fixture(scope="module")
def limits() -> EligibilityLimits:
    return EligibilityLimits.from_protocol(protocol_config())


def result(limits, code: str, changes: dict) -> CriterionResult:
    return evaluate_changed(limits, changes).criteria[code]


# ---- EX12: APTT (ULN 37 s) or INR (ULN 1.2) above 1.5×ULN ----

APTT_OK = "APTT 33 s is within 1.5×ULN (55.5 s)."
INR_OK = "INR 1.1 is within 1.5×ULN (1.8)."


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        ({"labs.aptt.value": 55.5}, "pass", f"APTT 55.5 s is within 1.5×ULN (55.5 s). {INR_OK}"),
        ({"labs.aptt.value": 55.6}, "fail", "APTT 55.6 s is above 1.5×ULN (55.5 s)."),
        ({"labs.inr.value": 1.8}, "pass", f"{APTT_OK} INR 1.8 is within 1.5×ULN (1.8)."),
        ({"labs.inr.value": 1.81}, "fail", "INR 1.81 is above 1.5×ULN (1.8)."),
        ({"labs.inr.value": 2.0, "labs.inr.uln": 1.4}, "pass", f"{APTT_OK} INR 2 is within 1.5×ULN (2.1)."),
        ({"labs.aptt.uln": None}, "missing", "Missing: labs.aptt.uln."),
        ({"labs.inr": DELETE}, "missing", "Missing: labs.inr."),
        ({"labs.inr.value": 3, "labs.aptt": None}, "fail", "INR 3 is above 1.5×ULN (1.8)."),
    ],
)
def test_ex12_coagulation(limits, changes, status, reason):
    assert result(limits, "EX12", changes) == CriterionResult(status, reason)


# ---- EX13 liver: TBIL (ULN 21 µmol/L), ALT and AST (ULN 40 U/L) above 2.5×ULN, waived with liver disease ----

RENAL_OK = (
    "Creatinine clearance 69.69 mL/min (Cockcroft–Gault) is at least 50. "
    "Serum creatinine 70 µmol/L is within 1.5×ULN (126 µmol/L)."
)
TBIL_OK = "Total bilirubin 12 µmol/L is within 2.5×ULN (52.5 µmol/L)."
ALT_OK = "ALT 30 U/L is within 2.5×ULN (100 U/L)."
AST_OK = "AST 28 U/L is within 2.5×ULN (100 U/L)."


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        ({"labs.alt.value": 100}, "pass", f"{TBIL_OK} ALT 100 U/L is within 2.5×ULN (100 U/L). {AST_OK} {RENAL_OK}"),
        ({"labs.alt.value": 100.1}, "fail", "ALT 100.1 U/L is above 2.5×ULN (100 U/L)."),
        ({"labs.ast.value": 100}, "pass", f"{TBIL_OK} {ALT_OK} AST 100 U/L is within 2.5×ULN (100 U/L). {RENAL_OK}"),
        ({"labs.ast.value": 101}, "fail", "AST 101 U/L is above 2.5×ULN (100 U/L)."),
        (
            {"labs.total_bilirubin.value": 52.5},
            "pass",
            f"Total bilirubin 52.5 µmol/L is within 2.5×ULN (52.5 µmol/L). {ALT_OK} {AST_OK} {RENAL_OK}",
        ),
        (
            {"labs.total_bilirubin.value": 52.6},
            "fail",
            "Total bilirubin 52.6 µmol/L is above 2.5×ULN (52.5 µmol/L).",
        ),
        (
            {"labs.total_bilirubin": {"value": 3.0, "unit": "mg/dL", "uln": 1.2}},
            "pass",
            f"Total bilirubin 3 mg/dL is within 2.5×ULN (3 mg/dL). {ALT_OK} {AST_OK} {RENAL_OK}",
        ),
        (
            {"labs.total_bilirubin": {"value": 3.1, "unit": "mg/dL", "uln": 1.2}},
            "fail",
            "Total bilirubin 3.1 mg/dL is above 2.5×ULN (3 mg/dL).",
        ),
        (
            {"liver_cancer_or_metastasis": True, "labs.alt.value": 500, "labs.total_bilirubin.value": 200},
            "pass",
            f"Liver limits waived: liver cancer or liver metastasis. {RENAL_OK}",
        ),
        (
            {"liver_cancer_or_metastasis": True, "labs.alt": None, "labs.ast": None},
            "pass",
            f"Liver limits waived: liver cancer or liver metastasis. {RENAL_OK}",
        ),
        (
            {"liver_cancer_or_metastasis": None},
            "pass",
            f"{TBIL_OK} {ALT_OK} {AST_OK} {RENAL_OK}",
        ),
        (
            {"liver_cancer_or_metastasis": None, "labs.alt.value": 101},
            "missing",
            "Missing: liver_cancer_or_metastasis. ALT 101 U/L is above 2.5×ULN (100 U/L).",
        ),
        ({"labs.alt.uln": None}, "missing", "Missing: labs.alt.uln."),
        ({"labs.ast": DELETE}, "missing", "Missing: labs.ast."),
    ],
)
def test_ex13_liver_limits(limits, changes, status, reason):
    assert result(limits, "EX13", changes) == CriterionResult(status, reason)


# ---- EX13 kidney: Cockcroft–Gault (actual weight, age on the screening date 2026-03-03) ≥ 50, Cr ≤ 1.5×ULN ----

LIVER_OK = f"{TBIL_OK} {ALT_OK} {AST_OK}"


def kidney(sex: str, born: str, weight: float, creatinine: float, unit: str, uln: float) -> dict:
    return {
        "sex": sex,
        "date_of_birth": born,
        "weight_kg": weight,
        "labs.creatinine": {"value": creatinine, "unit": unit, "uln": uln},
    }


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        # (140 − 40) × 36 / (72 × 1.0) = 50 exactly
        (
            kidney("M", "1986-03-03", 36, 1.0, "mg/dL", 1.2),
            "pass",
            f"{LIVER_OK} Creatinine clearance 50.00 mL/min (Cockcroft–Gault) is at least 50. "
            "Serum creatinine 1 mg/dL is within 1.5×ULN (1.8 mg/dL).",
        ),
        # 88.4 µmol/L ÷ 88.4 = 1.0 mg/dL
        (
            kidney("M", "1986-03-03", 36, 88.4, "umol/L", 100),
            "pass",
            f"{LIVER_OK} Creatinine clearance 50.00 mL/min (Cockcroft–Gault) is at least 50. "
            "Serum creatinine 88.4 µmol/L is within 1.5×ULN (150 µmol/L).",
        ),
        # the age is 39 on the screening date until the 40th birthday the next day: (101 × 36) / 72 = 50.5
        (
            kidney("M", "1986-03-04", 36, 1.0, "mg/dL", 1.2),
            "pass",
            f"{LIVER_OK} Creatinine clearance 50.50 mL/min (Cockcroft–Gault) is at least 50. "
            "Serum creatinine 1 mg/dL is within 1.5×ULN (1.8 mg/dL).",
        ),
        # 100 × 35.91 / 72 = 49.875, shown truncated
        (
            kidney("M", "1986-03-03", 35.91, 1.0, "mg/dL", 1.2),
            "fail",
            "Creatinine clearance 49.87 mL/min (Cockcroft–Gault) is below 50.",
        ),
        # 100 × 36 × 88.4 / (72 × 88.5) = 49.94…
        (
            kidney("M", "1986-03-03", 36, 88.5, "umol/L", 100),
            "fail",
            "Creatinine clearance 49.94 mL/min (Cockcroft–Gault) is below 50.",
        ),
        # female × 0.85: 100 × 36 × 0.85 / (72 × 0.85) = 50
        (
            kidney("F", "1986-03-03", 36, 0.85, "mg/dL", 1.2),
            "pass",
            f"{LIVER_OK} Creatinine clearance 50.00 mL/min (Cockcroft–Gault) is at least 50. "
            "Serum creatinine 0.85 mg/dL is within 1.5×ULN (1.8 mg/dL).",
        ),
        # the same man as a woman: 50 × 0.85 = 42.5
        (
            kidney("F", "1986-03-03", 36, 1.0, "mg/dL", 1.2),
            "fail",
            "Creatinine clearance 42.50 mL/min (Cockcroft–Gault) is below 50.",
        ),
    ],
)
def test_ex13_creatinine_clearance_cockcroft_gault(limits, changes, status, reason):
    assert result(limits, "EX13", changes) == CriterionResult(status, reason)


@pytest.mark.parametrize(
    "changes",
    [
        # exactly 50, but 49.99999999999999 in binary floating point
        kidney("M", "2006-03-03", 31.5, 1.05, "mg/dL", 1.2),
        kidney("M", "2006-03-03", 31.5, 92.82, "umol/L", 100),
        kidney("F", "2006-03-03", 48, 1.36, "mg/dL", 1.2),
    ],
)
def test_ex13_creatinine_clearance_of_exactly_50_passes_despite_float_rounding(limits, changes):
    verdict = result(limits, "EX13", changes)

    assert verdict.status == "pass"
    assert "Creatinine clearance 50.00 mL/min (Cockcroft–Gault) is at least 50." in verdict.reason


@pytest.mark.parametrize(
    ("creatinine", "status", "reason"),
    [
        (
            {"value": 126, "unit": "umol/L", "uln": 84},
            "pass",
            "Serum creatinine 126 µmol/L is within 1.5×ULN (126 µmol/L).",
        ),
        (
            {"value": 127, "unit": "umol/L", "uln": 84},
            "fail",
            "Serum creatinine 127 µmol/L is above 1.5×ULN (126 µmol/L).",
        ),
        (
            {"value": 1.8, "unit": "mg/dL", "uln": 1.2},
            "pass",
            "Serum creatinine 1.8 mg/dL is within 1.5×ULN (1.8 mg/dL).",
        ),
        (
            {"value": 1.81, "unit": "mg/dL", "uln": 1.2},
            "fail",
            "Serum creatinine 1.81 mg/dL is above 1.5×ULN (1.8 mg/dL).",
        ),
    ],
)
def test_ex13_serum_creatinine_against_its_own_uln_in_either_unit(limits, creatinine, status, reason):
    # a heavy young man keeps the clearance far above 50, so only the ULN check can fail
    changes = kidney("M", "2000-01-01", 120, creatinine["value"], creatinine["unit"], creatinine["uln"])

    verdict = result(limits, "EX13", changes)

    assert verdict.status == status
    assert verdict.reason.endswith(reason)


def test_ex13_renal_checks_are_independent(limits):
    # clearance 42.50 fails although the creatinine is within its ULN
    verdict = result(limits, "EX13", kidney("F", "1986-03-03", 36, 1.0, "mg/dL", 5))

    assert verdict == CriterionResult("fail", "Creatinine clearance 42.50 mL/min (Cockcroft–Gault) is below 50.")


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"weight_kg": None}, "Missing: weight_kg."),
        ({"sex": None}, "Missing: sex."),
        ({"screening_date": None}, "Missing: screening_date."),
        ({"labs.creatinine.unit": None}, "Missing: labs.creatinine.unit."),
        ({"labs.creatinine": None}, "Missing: labs.creatinine."),
        ({"labs.creatinine.uln": None}, "Missing: labs.creatinine.uln."),
    ],
)
def test_ex13_missing_renal_data_is_named(limits, changes, reason):
    assert result(limits, "EX13", changes) == CriterionResult("missing", reason)


# ---- EX14: ANC < 1.0×10⁹/L or hemoglobin < 80 g/L ----

HB_OK = "Hemoglobin 98 g/L is at least 80 g/L."


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        ({"labs.anc.value": 0.99}, "fail", "ANC 0.99 ×10⁹/L is below 1 ×10⁹/L."),
        ({"labs.anc.value": 1.0}, "pass", f"ANC 1 ×10⁹/L is at least 1 ×10⁹/L. {HB_OK}"),
        ({"labs.hemoglobin.value": 79}, "fail", "Hemoglobin 79 g/L is below 80 g/L."),
        (
            {"labs.hemoglobin.value": 80},
            "pass",
            "ANC 2.1 ×10⁹/L is at least 1 ×10⁹/L. Hemoglobin 80 g/L is at least 80 g/L.",
        ),
        (
            {"labs.hemoglobin": {"value": 7.9, "unit": "g/dL"}},
            "fail",
            "Hemoglobin 7.9 g/dL (79 g/L) is below 80 g/L.",
        ),
        (
            {"labs.hemoglobin": {"value": 8.0, "unit": "g/dL"}},
            "pass",
            "ANC 2.1 ×10⁹/L is at least 1 ×10⁹/L. Hemoglobin 8 g/dL (80 g/L) is at least 80 g/L.",
        ),
        ({"labs.anc": None}, "missing", "Missing: labs.anc."),
        ({"labs.hemoglobin.unit": None}, "missing", "Missing: labs.hemoglobin.unit."),
    ],
)
def test_ex14_blood_count(limits, changes, status, reason):
    assert result(limits, "EX14", changes) == CriterionResult(status, reason)


# ---- EX15: serology; HBV DNA must be from 3 months before screening (2026-03-03) or later ----

HBV_DNA_OLD = (
    "Missing: serology.hbv_dna_iu_ml, serology.hbv_dna_date. HBV DNA result of 2025-12-02 is older than "
    "3 months before the screening date 2026-03-03; anti-HBc positive needs a result on or after 2025-12-03."
)


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        ({"serology.hiv_ab": "positive"}, "fail", "Anti-HIV antibody positive."),
        ({"serology.tp_ab": "positive"}, "fail", "Anti-treponema pallidum antibody positive."),
        (
            {"serology.hcv_ab": "positive", "serology.hcv_rna_above_uln": True},
            "fail",
            "Anti-HCV antibody positive with HCV RNA above ULN.",
        ),
        ({"serology.hcv_ab": "positive"}, "missing", "Missing: serology.hcv_rna_above_uln."),
        ({"serology.hbsag": "positive"}, "fail", "HBsAg positive."),
        ({"serology.hbv_history": True}, "fail", "History of hepatitis B infection: yes."),
        (
            {"serology.hbv_dna_iu_ml": 2000},
            "fail",
            "Anti-HBc positive with HBV DNA 2000 IU/mL on 2026-02-20, at least 2000 IU/mL.",
        ),
        (
            {"serology.hbv_dna_iu_ml": 2500, "serology.hbv_dna_date": "2025-12-03"},
            "fail",
            "Anti-HBc positive with HBV DNA 2500 IU/mL on 2025-12-03, at least 2000 IU/mL.",
        ),
        (
            {"serology.hbv_dna_iu_ml": 2500, "serology.hbv_dna_date": "2026-03-04"},
            "fail",
            "Anti-HBc positive with HBV DNA 2500 IU/mL on 2026-03-04, at least 2000 IU/mL.",
        ),
        ({"serology.hbv_dna_date": "2025-12-02"}, "missing", HBV_DNA_OLD),
        ({"serology.hbv_dna_iu_ml": 5000, "serology.hbv_dna_date": "2025-12-02"}, "missing", HBV_DNA_OLD),
        ({"serology.hbv_dna_iu_ml": None}, "missing", "Missing: serology.hbv_dna_iu_ml."),
        ({"serology.hbv_dna_date": DELETE}, "missing", "Missing: serology.hbv_dna_date."),
        ({"screening_date": None}, "missing", "Missing: screening_date."),
        ({"serology.hbcab": None}, "missing", "Missing: serology.hbcab."),
        ({"serology.hiv_ab": None}, "missing", "Missing: serology.hiv_ab."),
        ({"serology.hbv_history": None}, "missing", "Missing: serology.hbv_history."),
        ({"serology.hcv_ab": None}, "missing", "Missing: serology.hcv_ab."),
        ({"serology.hiv_ab": "positive", "serology.hbcab": None}, "fail", "Anti-HIV antibody positive."),
    ],
)
def test_ex15_serology(limits, changes, status, reason):
    assert result(limits, "EX15", changes) == CriterionResult(status, reason)


@pytest.mark.parametrize(
    ("changes", "last_sentence"),
    [
        (
            {"serology.hbv_dna_iu_ml": 1999},
            "Anti-HBc positive with HBV DNA 1999 IU/mL on 2026-02-20, below 2000 IU/mL.",
        ),
        (
            {"serology.hbv_dna_iu_ml": 1999, "serology.hbv_dna_date": "2025-12-03"},
            "Anti-HBc positive with HBV DNA 1999 IU/mL on 2025-12-03, below 2000 IU/mL.",
        ),
        ({"serology.hbcab": "negative", "serology.hbv_dna_iu_ml": None}, "Anti-HBc negative."),
        ({"serology.hbcab": "negative", "serology.hbv_dna_iu_ml": 90000}, "Anti-HBc negative."),
    ],
)
def test_ex15_hbv_dna_below_2000_or_anti_hbc_negative_passes(limits, changes, last_sentence):
    verdict = result(limits, "EX15", changes)

    assert verdict.status == "pass"
    assert verdict.reason.endswith(last_sentence)


def test_ex15_hcv_antibody_positive_without_rna_above_uln_passes(limits):
    changes = {"serology.hcv_ab": "positive", "serology.hcv_rna_above_uln": False}

    assert result(limits, "EX15", changes) == CriterionResult(
        "pass",
        "Anti-HIV antibody negative. Anti-treponema pallidum antibody negative. "
        "Anti-HCV antibody positive with HCV RNA not above ULN. HBsAg negative. "
        "History of hepatitis B infection: no. Anti-HBc positive with HBV DNA 500 IU/mL on 2026-02-20, "
        "below 2000 IU/mL.",
    )
