"""The eligibility engine as a whole: outcome, API shape, the Appendix A example, limits and the catalogue."""

import dataclasses
import zoneinfo
from datetime import date

import pytest

from ctit_trial.protocol_config import load_seed, protocol_config
from enrollment.rules import (
    CRITERION_CODES,
    ENGINE_VERSION,
    CriterionResult,
    EligibilityLimits,
    evaluate_eligibility,
    parse_screening_document,
)
from enrollment.rules.criteria_common import add_months, completed_years
from enrollment.rules.eligibility import EligibilityEvaluation
from tests.enrollment.documents import APPENDIX_A, changed

SITE_TZ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def limits() -> EligibilityLimits:
    return EligibilityLimits.from_protocol(protocol_config())


def evaluate_changed(limits: EligibilityLimits, changes: dict, *, site_tz: str = SITE_TZ) -> EligibilityEvaluation:
    """Evaluate the Appendix A document with dotted-path changes applied."""
    return evaluate_eligibility(parse_screening_document(changed(changes)), limits, site_tz=site_tz)


def test_appendix_a_example_is_eligible_at_a_shanghai_site(limits):
    evaluation = evaluate_changed(limits, {})

    assert evaluation.outcome == "eligible"
    assert {code: r.status for code, r in evaluation.criteria.items()} == dict.fromkeys(CRITERION_CODES, "pass")


def test_appendix_a_reasons_name_the_values_used(limits):
    criteria = evaluate_changed(limits, {}).criteria

    assert criteria["IN1"].reason == "Age 55 on consent date 2026-03-02 is within 18–75."
    assert criteria["IN6"].reason == (
        "Agrees to highly effective contraception. Negative pregnancy test on 2026-03-01, "
        "4 days before the planned enrollment date 2026-03-05 (at most 7)."
    )
    assert criteria["EX12"].reason == "APTT 33 s is within 1.5×ULN (55.5 s). INR 1.1 is within 1.5×ULN (1.8)."
    assert criteria["EX13"].reason == (
        "Total bilirubin 12 µmol/L is within 2.5×ULN (52.5 µmol/L). ALT 30 U/L is within 2.5×ULN (100 U/L). "
        "AST 28 U/L is within 2.5×ULN (100 U/L). Creatinine clearance 69.69 mL/min (Cockcroft–Gault) is at "
        "least 50. Serum creatinine 70 µmol/L is within 1.5×ULN (126 µmol/L)."
    )
    assert criteria["EX15"].reason == (
        "Anti-HIV antibody negative. Anti-treponema pallidum antibody negative. Anti-HCV antibody negative. "
        "HBsAg negative. History of hepatitis B infection: no. "
        "Anti-HBc positive with HBV DNA 500 IU/mL on 2026-02-20, below 2000 IU/mL."
    )


def test_to_dict_has_exactly_the_api_shape_in_code_order(limits):
    result = evaluate_changed(limits, {"labs.platelets.value": 49}).to_dict()

    assert list(result) == ["outcome", "criteria"]
    assert list(result["criteria"]) == [*(f"IN{n}" for n in range(1, 7)), *(f"EX{n}" for n in range(1, 22))]
    assert result["outcome"] == "ineligible"
    assert result["criteria"]["IN2"] == {"status": "fail", "reason": "Platelets 49 ×10⁹/L is outside 50–100."}
    assert all(set(entry) == {"status", "reason"} for entry in result["criteria"].values())


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({}, "eligible"),
        ({"ecog": 3}, "ineligible"),
        ({"history.investigator_excludes": None}, "incomplete"),
        ({"ecog": None}, "incomplete"),
        ({"ecog": None, "labs.platelets.value": 101}, "ineligible"),
        ({"ecog": 3, "history.investigator_excludes": None}, "ineligible"),
    ],
)
def test_outcome_is_ineligible_on_any_fail_eligible_only_when_all_pass(limits, changes, outcome):
    assert evaluate_changed(limits, changes).outcome == outcome


def test_site_time_zone_may_be_a_tzinfo(limits):
    doc = parse_screening_document(APPENDIX_A)

    evaluation = evaluate_eligibility(doc, limits, site_tz=zoneinfo.ZoneInfo(SITE_TZ))

    assert evaluation.outcome == "eligible"


def test_engine_version_is_a_version_string():
    assert ENGINE_VERSION == "1.0.0"


# An empty document: every criterion says which fields it needs (EX21 awaits the investigator).
EMPTY_DOCUMENT_RESULTS = {
    "IN1": "Missing: date_of_birth, consent_signed_on.",
    "IN2": "Missing: malignancy_confirmed, thrombocytopenia_due_to_anticancer_therapy, labs.platelets, "
    "active_bleeding.",
    "IN3": "Missing: last_platelet_transfusion_at.",
    "IN4": "Missing: ecog.",
    "IN5": "Missing: life_expectancy_months.",
    "IN6": "Missing: sex.",
    "EX1": "Missing: history.platelet_transfusion_refractoriness.",
    "EX2": "Missing: history.severe_transfusion_allergy.",
    "EX3": "Missing: history.other_cause_of_thrombocytopenia_or_bleeding_disorder.",
    "EX4": "Missing: history.splenomegaly_or_hypersplenism.",
    "EX5": "Missing: planned_infusion_at, history.last_thrombopoietic_drug_on.",
    "EX6": "Missing: history.severe_bleeding.",
    "EX7": "Missing: history.hemophilia_or_coagulation_disorder.",
    "EX8": "Missing: screening_date, history.last_thromboembolism_on, history.last_catheter_thrombosis_on.",
    "EX9": "Missing: screening_date, history.last_cardiac_disease_on, history.severe_cardiovascular_history.",
    "EX10": "Missing: planned_infusion_at, history.last_major_surgery_on, history.major_surgery_planned.",
    "EX11": "Missing: screening_date, history.last_anticoagulant_on.",
    "EX12": "Missing: labs.aptt, labs.inr.",
    "EX13": "Missing: liver_cancer_or_metastasis, labs.total_bilirubin, labs.alt, labs.ast, sex, date_of_birth, "
    "screening_date, weight_kg, labs.creatinine.",
    "EX14": "Missing: labs.anc, labs.hemoglobin.",
    "EX15": "Missing: serology.hiv_ab, serology.tp_ab, serology.hcv_ab, serology.hbsag, serology.hbv_history, "
    "serology.hbcab.",
    "EX16": "Missing: history.active_infection_requiring_iv_antibiotics.",
    "EX17": "Missing: history.allergy_to_product.",
    "EX18": "Missing: history.similar_investigational_product_within_4_weeks, history.in_other_interventional_trial.",
    "EX19": "Missing: history.hsct_with_acute_gvhd_requiring_treatment.",
    "EX20": "Missing: history.pregnant_or_lactating.",
}


@pytest.mark.parametrize(("code", "reason"), EMPTY_DOCUMENT_RESULTS.items())
def test_empty_document_names_the_missing_fields_of_each_criterion(limits, code, reason):
    evaluation = evaluate_eligibility(parse_screening_document({}), limits, site_tz=SITE_TZ)

    assert evaluation.criteria[code] == CriterionResult("missing", reason)


def test_empty_document_is_incomplete_with_ex21_awaiting_review(limits):
    evaluation = evaluate_eligibility(parse_screening_document({}), limits, site_tz=SITE_TZ)

    assert evaluation.outcome == "incomplete"
    assert evaluation.criteria["EX21"] == CriterionResult(
        "review", "Needs the investigator's judgment: history.investigator_excludes is not recorded."
    )


# ---- the limits come from seeds/protocol.yaml ----


def test_limits_are_read_from_the_protocol_configuration(limits):
    section = protocol_config()["eligibility"]

    assert limits.age_min == section["age_min"] == 18
    assert limits.creatinine_clearance_min == 50
    assert limits.transfusion_free_hours == protocol_config()["dosing_gate"]["transfusion_free_hours"] == 72
    assert str(limits.anc_min) == "1.0"


def test_a_changed_limit_changes_the_verdict():
    section = {**full_limits_section(), "platelets_min": 40}

    evaluation = evaluate_changed(EligibilityLimits.from_mapping(section), {"labs.platelets.value": 45})

    assert evaluation.criteria["IN2"].status == "pass"


def test_limits_without_a_key_are_refused():
    section = {**full_limits_section()}
    del section["age_max"]

    with pytest.raises(ValueError, match=r"missing \['age_max'\], unknown none"):
        EligibilityLimits.from_mapping(section)


def test_limits_with_an_unknown_key_are_refused():
    section = {**full_limits_section(), "age_maxx": 80}

    with pytest.raises(ValueError, match=r"missing none, unknown \['age_maxx'\]"):
        EligibilityLimits.from_mapping(section)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("age_min", 18.5, "must be a whole number"),
        ("ecog_max", True, "must be a number"),
        ("anc_min", "1.0", "must be a number"),
        ("hemoglobin_min", -80, "must not be negative"),
    ],
)
def test_limits_of_the_wrong_type_are_refused(key, value, message):
    section = {**full_limits_section(), key: value}

    with pytest.raises(ValueError, match=message):
        EligibilityLimits.from_mapping(section)


def full_limits_section() -> dict:
    """Every limit as one flat mapping, gate-shared ones included."""
    return dataclasses.asdict(EligibilityLimits.from_protocol(protocol_config()))


def test_gate_shared_limits_come_from_the_dosing_gate_section():
    config = protocol_config()
    config = {**config, "dosing_gate": {**config["dosing_gate"], "surgery_free_days": 21}}

    assert EligibilityLimits.from_protocol(config).surgery_lookback_days == 21


def test_a_gate_shared_limit_in_the_eligibility_section_is_refused():
    config = protocol_config()
    config = {**config, "eligibility": {**config["eligibility"], "surgery_lookback_days": 28}}

    with pytest.raises(ValueError, match="eligibility.surgery_lookback_days belongs in dosing_gate only"):
        EligibilityLimits.from_protocol(config)


# ---- calendar arithmetic ----


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 3, 3), -6, date(2025, 9, 3)),
        (date(2026, 3, 3), -3, date(2025, 12, 3)),
        (date(2026, 3, 3), -1, date(2026, 2, 3)),
        (date(2026, 8, 31), -6, date(2026, 2, 28)),
        (date(2024, 8, 31), -6, date(2024, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 15), -3, date(2025, 10, 15)),
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
    ],
)
def test_add_months_uses_calendar_months_clamped_to_the_month_end(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2008, 3, 2), date(2026, 3, 1), 17),
        (date(2008, 3, 2), date(2026, 3, 2), 18),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2008, 2, 29), date(2028, 2, 29), 20),
    ],
)
def test_completed_years(born, on, age):
    assert completed_years(born, on) == age


# ---- the criteria catalogue (seeds/criteria.yaml) ----


def test_criteria_catalogue_lists_every_code_in_order_with_its_kind_and_number():
    catalogue = load_seed("criteria.yaml")

    assert catalogue["version"] == "1.0"
    assert [item["code"] for item in catalogue["criteria"]] == list(CRITERION_CODES)
    for item in catalogue["criteria"]:
        prefix = "IN" if item["kind"] == "inclusion" else "EX"
        assert item["code"] == f"{prefix}{item['number']}"
        assert item["text"].strip() == item["text"] and item["text"]


def test_criteria_catalogue_keeps_the_registry_text_verbatim():
    texts = {item["code"]: item["text"] for item in load_seed("criteria.yaml")["criteria"]}

    assert texts["IN4"] == "Eastern Cooperative Oncology Group (ECOG) performance status score of 0-2."
    assert texts["EX20"] == "Pregnant or lactating female subjects."
    assert texts["EX12"] == (
        "Coagulation function abnormalities: activated partial thromboplastin time (APTT) \\>1.5× upper limit "
        "of normal (ULN); international normalized ratio (INR) \\>1.5×ULN."
    )
