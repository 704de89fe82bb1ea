"""Inclusion criteria IN1–IN6 at their boundaries, with exact statuses and reasons."""

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


# ---- IN1: age in completed years on the consent date (2026-03-02 in the base document) ----


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        ({"date_of_birth": "2008-03-03"}, "fail", "Age 17 on consent date 2026-03-02 is outside 18–75."),
        ({"date_of_birth": "2008-03-02"}, "pass", "Age 18 on consent date 2026-03-02 is within 18–75."),
        ({"date_of_birth": "1951-03-02"}, "pass", "Age 75 on consent date 2026-03-02 is within 18–75."),
        ({"date_of_birth": "1950-03-03"}, "pass", "Age 75 on consent date 2026-03-02 is within 18–75."),
        ({"date_of_birth": "1950-03-02"}, "fail", "Age 76 on consent date 2026-03-02 is outside 18–75."),
        (
            {"date_of_birth": "2008-02-29", "consent_signed_on": "2026-02-28"},
            "fail",
            "Age 17 on consent date 2026-02-28 is outside 18–75.",
        ),
        (
            {"date_of_birth": "2008-02-29", "consent_signed_on": "2026-03-01"},
            "pass",
            "Age 18 on consent date 2026-03-01 is within 18–75.",
        ),
        ({"date_of_birth": None}, "missing", "Missing: date_of_birth."),
        ({"consent_signed_on": DELETE}, "missing", "Missing: consent_signed_on."),
    ],
)
def test_in1_age_on_the_consent_date(limits, changes, status, reason):
    assert result(limits, "IN1", changes) == CriterionResult(status, reason)


# ---- IN2: confirmed malignancy, CTIT, 50 ≤ PLT ≤ 100, no bleeding ----

IN2_PASS = (
    "Malignancy histologically/cytologically confirmed. Thrombocytopenia due to anticancer therapy. "
    "Platelets {} ×10⁹/L is within 50–100. No active bleeding."
)


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        ({"labs.platelets.value": 49}, "fail", "Platelets 49 ×10⁹/L is outside 50–100."),
        ({"labs.platelets.value": 49.9}, "fail", "Platelets 49.9 ×10⁹/L is outside 50–100."),
        ({"labs.platelets.value": 50}, "pass", IN2_PASS.format(50)),
        ({"labs.platelets.value": 100}, "pass", IN2_PASS.format(100)),
        ({"labs.platelets.value": 100.0}, "pass", IN2_PASS.format(100)),
        ({"labs.platelets.value": 101}, "fail", "Platelets 101 ×10⁹/L is outside 50–100."),
        ({"malignancy_confirmed": False}, "fail", "Malignancy not confirmed."),
        (
            {"thrombocytopenia_due_to_anticancer_therapy": False},
            "fail",
            "Thrombocytopenia not due to anticancer therapy.",
        ),
        ({"active_bleeding": True}, "fail", "Active bleeding."),
        (
            {"labs.platelets.value": 49, "active_bleeding": True},
            "fail",
            "Platelets 49 ×10⁹/L is outside 50–100. Active bleeding.",
        ),
        (
            {"labs.platelets.value": 101, "malignancy_confirmed": None},
            "fail",
            "Platelets 101 ×10⁹/L is outside 50–100.",
        ),
        ({"malignancy_confirmed": None}, "missing", "Missing: malignancy_confirmed."),
        (
            {"thrombocytopenia_due_to_anticancer_therapy": DELETE},
            "missing",
            "Missing: thrombocytopenia_due_to_anticancer_therapy.",
        ),
        ({"active_bleeding": None}, "missing", "Missing: active_bleeding."),
        ({"labs.platelets": None}, "missing", "Missing: labs.platelets."),
        ({"labs.platelets.value": None}, "missing", "Missing: labs.platelets.value."),
        ({"labs.platelets.unit": None}, "missing", "Missing: labs.platelets.unit."),
        ({"labs": None}, "missing", "Missing: labs.platelets."),
    ],
)
def test_in2_malignancy_platelets_and_bleeding(limits, changes, status, reason):
    assert result(limits, "IN2", changes) == CriterionResult(status, reason)


# ---- IN3: no platelet transfusion in the 72 hours (by timestamp) before 2026-03-10T09:00+08:00 ----


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        (
            {"last_platelet_transfusion_at": "2026-03-07T01:00:00Z"},
            "pass",
            "Last platelet transfusion at 2026-03-07T09:00+08:00 is 72h00m before the planned infusion at "
            "2026-03-10T09:00+08:00; at least 72 hours are required.",
        ),
        (
            {"last_platelet_transfusion_at": "2026-03-07T01:01:00+00:00"},
            "fail",
            "Last platelet transfusion at 2026-03-07T09:01+08:00 is 71h59m before the planned infusion at "
            "2026-03-10T09:00+08:00; at least 72 hours are required.",
        ),
        (
            {"last_platelet_transfusion_at": "2026-03-06T20:00:01-05:00"},
            "fail",
            "Last platelet transfusion at 2026-03-07T09:00:01+08:00 is 71h59m59s before the planned infusion at "
            "2026-03-10T09:00+08:00; at least 72 hours are required.",
        ),
        (
            {"last_platelet_transfusion_at": "2026-03-01T08:00:00+08:00"},
            "pass",
            "Last platelet transfusion at 2026-03-01T08:00+08:00 is 217h00m before the planned infusion at "
            "2026-03-10T09:00+08:00; at least 72 hours are required.",
        ),
        (
            {"last_platelet_transfusion_at": "2026-03-10T02:00:00Z"},
            "fail",
            "Last platelet transfusion at 2026-03-10T10:00+08:00 is after the planned infusion at "
            "2026-03-10T09:00+08:00.",
        ),
        ({"last_platelet_transfusion_at": None}, "pass", "No platelet transfusion on record."),
        ({"last_platelet_transfusion_at": DELETE}, "missing", "Missing: last_platelet_transfusion_at."),
        (
            {"last_platelet_transfusion_at": "2026-03-01T08:00:00+08:00", "planned_infusion_at": None},
            "missing",
            "Missing: planned_infusion_at.",
        ),
        ({"planned_infusion_at": None}, "pass", "No platelet transfusion on record."),
    ],
)
def test_in3_transfusion_72_hours_by_timestamp(limits, changes, status, reason):
    assert result(limits, "IN3", changes) == CriterionResult(status, reason)


def test_in3_counts_elapsed_hours_not_wall_clock_across_a_dst_change(limits):
    # given: Berlin moves to summer time on 2026-03-29, so 09:00 → 09:00 three days later is only 71 hours
    changes = {
        "last_platelet_transfusion_at": "2026-03-27T09:00:00+01:00",
        "planned_infusion_at": "2026-03-30T09:00:00+02:00",
    }

    # when
    verdict = result(limits, "IN3", changes, site_tz="Europe/Berlin")

    # then
    assert verdict == CriterionResult(
        "fail",
        "Last platelet transfusion at 2026-03-27T09:00+01:00 is 71h00m before the planned infusion at "
        "2026-03-30T09:00+02:00; at least 72 hours are required.",
    )


# ---- IN4 ECOG 0–2, IN5 life expectancy > 3 months ----


@pytest.mark.parametrize(
    ("ecog", "status", "reason"),
    [
        (0, "pass", "ECOG 0 is within 0–2."),
        (2, "pass", "ECOG 2 is within 0–2."),
        (3, "fail", "ECOG 3 is outside 0–2."),
        (5, "fail", "ECOG 5 is outside 0–2."),
        (None, "missing", "Missing: ecog."),
    ],
)
def test_in4_ecog(limits, ecog, status, reason):
    assert result(limits, "IN4", {"ecog": ecog}) == CriterionResult(status, reason)


@pytest.mark.parametrize(
    ("months", "status", "reason"),
    [
        (3, "fail", "Life expectancy 3 months is not more than 3 months."),
        (3.5, "pass", "Life expectancy 3.5 months is more than 3 months."),
        (4, "pass", "Life expectancy 4 months is more than 3 months."),
        (0, "fail", "Life expectancy 0 months is not more than 3 months."),
        (None, "missing", "Missing: life_expectancy_months."),
    ],
)
def test_in5_life_expectancy_strictly_more_than_3_months(limits, months, status, reason):
    assert result(limits, "IN5", {"life_expectancy_months": months}) == CriterionResult(status, reason)


# ---- IN6: contraception; WOCBP negative pregnancy test within 7 days before enrollment (2026-03-05) ----

CONTRACEPTION = "Agrees to highly effective contraception."


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        (
            {"pregnancy_test.date": "2026-02-26"},
            "pass",
            f"{CONTRACEPTION} Negative pregnancy test on 2026-02-26, 7 days before the planned enrollment date "
            "2026-03-05 (at most 7).",
        ),
        (
            {"pregnancy_test.date": "2026-02-25"},
            "fail",
            "Negative pregnancy test on 2026-02-25, 8 days before the planned enrollment date 2026-03-05 (at most 7).",
        ),
        (
            {"pregnancy_test.date": "2026-03-04"},
            "pass",
            f"{CONTRACEPTION} Negative pregnancy test on 2026-03-04, 1 day before the planned enrollment date "
            "2026-03-05 (at most 7).",
        ),
        (
            {"pregnancy_test.date": "2026-03-05"},
            "pass",
            f"{CONTRACEPTION} Negative pregnancy test on 2026-03-05, 0 days before the planned enrollment date "
            "2026-03-05 (at most 7).",
        ),
        (
            {"pregnancy_test.date": "2026-03-06"},
            "fail",
            "Pregnancy test on 2026-03-06 is after the planned enrollment date 2026-03-05; only a test within "
            "7 days before enrollment counts.",
        ),
        ({"pregnancy_test.result": "positive"}, "fail", "Pregnancy test on 2026-03-01 is positive."),
        (
            {"pregnancy_test.result": "positive", "pregnancy_test.date": None},
            "fail",
            "Pregnancy test is positive.",
        ),
        ({"contraception_agreed": False}, "fail", "Does not agree to highly effective contraception."),
        (
            {"wocbp": False, "contraception_agreed": None, "pregnancy_test": None},
            "pass",
            "Woman not of childbearing potential: no contraception or pregnancy test required.",
        ),
        ({"wocbp": None}, "missing", "Missing: wocbp."),
        ({"sex": None}, "missing", "Missing: sex."),
        ({"pregnancy_test": None}, "missing", "Missing: pregnancy_test."),
        ({"pregnancy_test.date": None}, "missing", "Missing: pregnancy_test.date."),
        ({"pregnancy_test.result": None}, "missing", "Missing: pregnancy_test.result."),
        ({"planned_enrollment_date": None}, "missing", "Missing: planned_enrollment_date."),
        (
            {"contraception_agreed": None, "pregnancy_test": DELETE},
            "missing",
            "Missing: contraception_agreed, pregnancy_test.",
        ),
    ],
)
def test_in6_woman_of_childbearing_potential(limits, changes, status, reason):
    assert result(limits, "IN6", changes) == CriterionResult(status, reason)


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        ({"partner_wocbp": False}, "pass", "Male subject without a partner of childbearing potential."),
        ({"partner_wocbp": True}, "pass", CONTRACEPTION),
        (
            {"partner_wocbp": True, "contraception_agreed": False},
            "fail",
            "Does not agree to highly effective contraception.",
        ),
        ({"partner_wocbp": True, "contraception_agreed": None}, "missing", "Missing: contraception_agreed."),
        ({"partner_wocbp": None}, "missing", "Missing: partner_wocbp."),
    ],
)
def test_in6_man_needs_contraception_only_with_a_wocbp_partner_and_no_pregnancy_test(limits, changes, status, reason):
    changes = {"sex": "M", "wocbp": None, "pregnancy_test": None, **changes}

    assert result(limits, "IN6", changes) == CriterionResult(status, reason)
