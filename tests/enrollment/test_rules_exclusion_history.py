"""Exclusion criteria from the medical history (EX1–EX11, EX16–EX21) with exact statuses and reasons."""

import pytest

from ctit_trial.protocol_config import protocol_config
from enrollment.rules import CriterionResult, EligibilityLimits
from tests.enrollment.documents import DELETE
from tests.enrollment.test_rules_eligibility import evaluate_changed


@pytest.fixture(scope="module")
def limits() -> EligibilityLimits:
    return EligibilityLimits.from_protocol(protocol_config())


def result(limits, code: str, changes: dict, *, site_tz: str = "Asia/Shanghai") -> CriterionResult:
    return evaluate_changed(limits, changes, site_tz=site_tz).criteria[code]


YES_NO_ITEMS = [
    ("EX1", "platelet_transfusion_refractoriness", "History of platelet transfusion refractoriness"),
    ("EX2", "severe_transfusion_allergy", "History of severe allergic reaction to transfusion"),
    (
        "EX3",
        "other_cause_of_thrombocytopenia_or_bleeding_disorder",
        "Bleeding disorder or thrombocytopenia from a cause other than CTIT",
    ),
    ("EX4", "splenomegaly_or_hypersplenism", "Splenomegaly or hypersplenism"),
    ("EX6", "severe_bleeding", "Existing severe bleeding"),
    ("EX7", "hemophilia_or_coagulation_disorder", "Hemophilia or coagulation disorder"),
    ("EX16", "active_infection_requiring_iv_antibiotics", "Uncontrolled infection requiring IV antibiotics"),
    ("EX17", "allergy_to_product", "Known allergy to the investigational product or its excipients"),
    ("EX19", "hsct_with_acute_gvhd_requiring_treatment", "HSCT with acute GVHD requiring treatment"),
]


@pytest.mark.parametrize(("code", "field", "label"), YES_NO_ITEMS)
def test_yes_no_item_excludes_on_yes(limits, code, field, label):
    assert result(limits, code, {f"history.{field}": True}) == CriterionResult("fail", f"{label}: yes.")
    assert result(limits, code, {f"history.{field}": False}) == CriterionResult("pass", f"{label}: no.")


@pytest.mark.parametrize(("code", "field", "label"), YES_NO_ITEMS)
def test_unanswered_yes_no_item_is_missing(limits, code, field, label):
    expected = CriterionResult("missing", f"Missing: history.{field}.")

    assert result(limits, code, {f"history.{field}": None}) == expected
    assert result(limits, code, {f"history.{field}": DELETE}) == expected


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        (
            {},
            "pass",
            "Investigational product of similar mechanism within 28 days: no. "
            "In another interventional clinical trial: no.",
        ),
        (
            {"history.similar_investigational_product_within_4_weeks": True},
            "fail",
            "Investigational product of similar mechanism within 28 days: yes.",
        ),
        (
            {"history.in_other_interventional_trial": True},
            "fail",
            "In another interventional clinical trial: yes.",
        ),
        (
            {"history.in_other_interventional_trial": None},
            "missing",
            "Missing: history.in_other_interventional_trial.",
        ),
    ],
)
def test_ex18_similar_product_or_other_trial(limits, changes, status, reason):
    assert result(limits, "EX18", changes) == CriterionResult(status, reason)


# ---- EX5: thrombopoietic drugs within 7 days before the site-local infusion day (2026-03-10 in Shanghai) ----


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        (
            {"history.last_thrombopoietic_drug_on": "2026-03-03"},
            "fail",
            "Thrombopoietic drug use on 2026-03-03 is within 7 days before the planned infusion day 2026-03-10 "
            "(on or after 2026-03-03).",
        ),
        (
            {"history.last_thrombopoietic_drug_on": "2026-03-02"},
            "pass",
            "Thrombopoietic drug use on 2026-03-02 is more than 7 days before the planned infusion day 2026-03-10 "
            "(before 2026-03-03).",
        ),
        (
            {"history.last_thrombopoietic_drug_on": "2026-03-11"},
            "fail",
            "Thrombopoietic drug use on 2026-03-11 is after the planned infusion day 2026-03-10.",
        ),
        ({"history.last_thrombopoietic_drug_on": None}, "pass", "No thrombopoietic drug use on record."),
        (
            {"history.last_thrombopoietic_drug_on": DELETE},
            "missing",
            "Missing: history.last_thrombopoietic_drug_on.",
        ),
        (
            {"history.last_thrombopoietic_drug_on": "2026-03-01", "planned_infusion_at": None},
            "missing",
            "Missing: planned_infusion_at.",
        ),
    ],
)
def test_ex5_thrombopoietic_drugs(limits, changes, status, reason):
    assert result(limits, "EX5", changes) == CriterionResult(status, reason)


@pytest.mark.parametrize(("site_tz", "status"), [("Asia/Shanghai", "pass"), ("UTC", "fail")])
def test_ex5_infusion_day_is_the_site_local_calendar_day(limits, site_tz, status):
    # 2026-03-09T17:00Z is 2026-03-10 01:00 in Shanghai (8 days after the drug) but 2026-03-09 in UTC (7 days)
    changes = {"planned_infusion_at": "2026-03-09T17:00:00Z", "history.last_thrombopoietic_drug_on": "2026-03-02"}

    assert result(limits, "EX5", changes, site_tz=site_tz).status == status


# ---- EX8: thromboembolism 6 months / catheter thrombosis 1 month before screening (2026-03-03) ----


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        (
            {"history.last_thromboembolism_on": "2025-09-03"},
            "fail",
            "Thromboembolism on 2025-09-03 is within 6 months before the screening date 2026-03-03 "
            "(on or after 2025-09-03).",
        ),
        (
            {"history.last_thromboembolism_on": "2025-09-02"},
            "pass",
            "Thromboembolism on 2025-09-02 is more than 6 months before the screening date 2026-03-03 "
            "(before 2025-09-03). No catheter-related thrombosis on record.",
        ),
        (
            {"history.last_catheter_thrombosis_on": "2026-02-03"},
            "fail",
            "Catheter-related thrombosis on 2026-02-03 is within 1 month before the screening date 2026-03-03 "
            "(on or after 2026-02-03).",
        ),
        (
            {"history.last_catheter_thrombosis_on": "2026-02-02"},
            "pass",
            "No thromboembolism on record. Catheter-related thrombosis on 2026-02-02 is more than 1 month before "
            "the screening date 2026-03-03 (before 2026-02-03).",
        ),
        (
            {"screening_date": "2026-08-31", "history.last_thromboembolism_on": "2026-02-28"},
            "fail",
            "Thromboembolism on 2026-02-28 is within 6 months before the screening date 2026-08-31 "
            "(on or after 2026-02-28).",
        ),
        ({"history.last_thromboembolism_on": DELETE}, "missing", "Missing: history.last_thromboembolism_on."),
        (
            {"history.last_catheter_thrombosis_on": "2026-01-01", "screening_date": None},
            "missing",
            "Missing: screening_date.",
        ),
    ],
)
def test_ex8_thromboembolism(limits, changes, status, reason):
    assert result(limits, "EX8", changes) == CriterionResult(status, reason)


# ---- EX9: cardiac disease within 3 months before screening, or severe cardiovascular history ----


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        (
            {"history.last_cardiac_disease_on": "2025-12-03"},
            "fail",
            "Cardiac disease on 2025-12-03 is within 3 months before the screening date 2026-03-03 "
            "(on or after 2025-12-03).",
        ),
        (
            {"history.last_cardiac_disease_on": "2025-12-02"},
            "pass",
            "Cardiac disease on 2025-12-02 is more than 3 months before the screening date 2026-03-03 "
            "(before 2025-12-03). Severe cardiovascular history: no.",
        ),
        ({"history.severe_cardiovascular_history": True}, "fail", "Severe cardiovascular history: yes."),
        (
            {"history.severe_cardiovascular_history": None, "history.last_cardiac_disease_on": DELETE},
            "missing",
            "Missing: history.last_cardiac_disease_on, history.severe_cardiovascular_history.",
        ),
        (
            {"history.severe_cardiovascular_history": True, "screening_date": None},
            "fail",
            "Severe cardiovascular history: yes.",
        ),
    ],
)
def test_ex9_cardiac(limits, changes, status, reason):
    assert result(limits, "EX9", changes) == CriterionResult(status, reason)


# ---- EX10: major surgery within 28 days before the infusion day (2026-03-10), or planned ----


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        (
            {"history.last_major_surgery_on": "2026-02-10"},
            "fail",
            "Major surgery or severe trauma on 2026-02-10 is within 28 days before the planned infusion day "
            "2026-03-10 (on or after 2026-02-10).",
        ),
        (
            {"history.last_major_surgery_on": "2026-02-09"},
            "pass",
            "Major surgery or severe trauma on 2026-02-09 is more than 28 days before the planned infusion day "
            "2026-03-10 (before 2026-02-10). Major surgery planned during the trial: no.",
        ),
        ({"history.major_surgery_planned": True}, "fail", "Major surgery planned during the trial: yes."),
        ({"history.major_surgery_planned": None}, "missing", "Missing: history.major_surgery_planned."),
        (
            {"history.last_major_surgery_on": "2026-01-01", "planned_infusion_at": None},
            "missing",
            "Missing: planned_infusion_at.",
        ),
    ],
)
def test_ex10_major_surgery(limits, changes, status, reason):
    assert result(limits, "EX10", changes) == CriterionResult(status, reason)


# ---- EX11: anticoagulants within 7 days before screening (2026-03-03) ----


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        (
            {"history.last_anticoagulant_on": "2026-02-24"},
            "fail",
            "Anticoagulant or antiplatelet use on 2026-02-24 is within 7 days before the screening date "
            "2026-03-03 (on or after 2026-02-24).",
        ),
        (
            {"history.last_anticoagulant_on": "2026-02-23"},
            "pass",
            "Anticoagulant or antiplatelet use on 2026-02-23 is more than 7 days before the screening date "
            "2026-03-03 (before 2026-02-24).",
        ),
        (
            {"history.last_anticoagulant_on": "2026-03-04"},
            "fail",
            "Anticoagulant or antiplatelet use on 2026-03-04 is after the screening date 2026-03-03.",
        ),
        ({"history.last_anticoagulant_on": None}, "pass", "No anticoagulant or antiplatelet use on record."),
        ({"history.last_anticoagulant_on": DELETE}, "missing", "Missing: history.last_anticoagulant_on."),
    ],
)
def test_ex11_anticoagulants(limits, changes, status, reason):
    assert result(limits, "EX11", changes) == CriterionResult(status, reason)


# ---- EX20 pregnant or lactating, EX21 investigator judgment ----


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        ({"history.pregnant_or_lactating": True}, "fail", "Pregnant or lactating: yes."),
        ({"pregnancy_test.result": "positive"}, "fail", "Pregnancy test on 2026-03-01 is positive."),
        ({"history.pregnant_or_lactating": None}, "missing", "Missing: history.pregnant_or_lactating."),
        (
            {"sex": "M", "history.pregnant_or_lactating": None},
            "pass",
            "Not applicable to a male subject.",
        ),
        ({"sex": "M"}, "pass", "Pregnant or lactating: no."),
    ],
)
def test_ex20_pregnant_or_lactating(limits, changes, status, reason):
    assert result(limits, "EX20", changes) == CriterionResult(status, reason)


@pytest.mark.parametrize(
    ("excludes", "status", "reason"),
    [
        (True, "fail", "The investigator judges that another condition precludes participation."),
        (False, "pass", "The investigator judges that no other condition precludes participation."),
        (None, "review", "Needs the investigator's judgment: history.investigator_excludes is not recorded."),
        (DELETE, "review", "Needs the investigator's judgment: history.investigator_excludes is not recorded."),
    ],
)
def test_ex21_investigator_judgment(limits, excludes, status, reason):
    assert result(limits, "EX21", {"history.investigator_excludes": excludes}) == CriterionResult(status, reason)
