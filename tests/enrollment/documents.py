"""The Appendix A screening document and a helper to vary it, shared by the eligibility tests."""

import copy

# The example document of PROTOCOL.md Appendix A, verbatim.
APPENDIX_A = {
    "sex": "F",
    "date_of_birth": "1970-05-01",
    "consent_signed_on": "2026-03-02",
    "screening_date": "2026-03-03",
    "planned_enrollment_date": "2026-03-05",
    "planned_infusion_at": "2026-03-10T09:00:00+08:00",
    "height_cm": 160,
    "weight_kg": 55,
    "malignancy_confirmed": True,
    "thrombocytopenia_due_to_anticancer_therapy": True,
    "active_bleeding": False,
    "last_platelet_transfusion_at": None,
    "ecog": 1,
    "life_expectancy_months": 6,
    "wocbp": True,
    "partner_wocbp": None,
    "contraception_agreed": True,
    "pregnancy_test": {"date": "2026-03-01", "result": "negative"},
    "liver_cancer_or_metastasis": False,
    "labs": {
        "platelets": {"value": 72, "unit": "10^9/L"},
        "anc": {"value": 2.1, "unit": "10^9/L"},
        "hemoglobin": {"value": 98, "unit": "g/L"},
        "aptt": {"value": 33, "unit": "s", "uln": 37},
        "inr": {"value": 1.1, "unit": "ratio", "uln": 1.2},
        "total_bilirubin": {"value": 12, "unit": "umol/L", "uln": 21},
        "alt": {"value": 30, "unit": "U/L", "uln": 40},
        "ast": {"value": 28, "unit": "U/L", "uln": 40},
        "creatinine": {"value": 70, "unit": "umol/L", "uln": 84},
    },
    "serology": {
        "hiv_ab": "negative",
        "tp_ab": "negative",
        "hcv_ab": "negative",
        "hcv_rna_above_uln": None,
        "hbsag": "negative",
        "hbv_history": False,
        "hbcab": "positive",
        "hbv_dna_iu_ml": 500,
        "hbv_dna_date": "2026-02-20",
    },
    "history": {
        "platelet_transfusion_refractoriness": False,
        "severe_transfusion_allergy": False,
        "other_cause_of_thrombocytopenia_or_bleeding_disorder": False,
        "splenomegaly_or_hypersplenism": False,
        "last_thrombopoietic_drug_on": None,
        "severe_bleeding": False,
        "hemophilia_or_coagulation_disorder": False,
        "last_thromboembolism_on": None,
        "last_catheter_thrombosis_on": None,
        "last_cardiac_disease_on": None,
        "severe_cardiovascular_history": False,
        "last_major_surgery_on": None,
        "major_surgery_planned": False,
        "last_anticoagulant_on": None,
        "active_infection_requiring_iv_antibiotics": False,
        "allergy_to_product": False,
        "similar_investigational_product_within_4_weeks": False,
        "in_other_interventional_trial": False,
        "hsct_with_acute_gvhd_requiring_treatment": False,
        "pregnant_or_lactating": False,
        "investigator_excludes": False,
    },
}

DELETE = object()  # a change that removes the key instead of setting it


def changed(changes: dict) -> dict:
    """A deep copy of the Appendix A document with dotted-path changes applied (DELETE removes a key)."""
    data = copy.deepcopy(APPENDIX_A)
    for path, value in changes.items():
        *parents, key = path.split(".")
        node = data
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        if value is DELETE:
            node.pop(key, None)
        else:
            node[key] = value
    return data
