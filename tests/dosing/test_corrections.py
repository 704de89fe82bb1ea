"""Corrections of recorded dosing-day data (issue 12, defect 9) and the plausibility of the times recorded.

The subject of tests/dosing/conftest.py at BJ01 (UTC+8): D−1 9 March (72×10⁹/L), D0 assessment 08:45 on 10 March,
planned and infused 09:00–09:40 on 10 March. Each correction is a POST under /subjects/{id}/dosing/corrections/.
"""

from datetime import UTC, datetime, timedelta

import pytest

from dosing.models import DosingDayCorrection, Infusion, InfusionPlan, PostInfusionDraw, Reconfirmation, VitalSigns
from enrollment.roles import MONITOR, STUDY_COORDINATOR
from safety.models import AdverseEvent, TemperatureRecord, Visit
from tests.dosing.conftest import (
    AFTER_DRAWS,
    ASSESSMENT,
    D0_MORNING,
    D_MINUS_1_DRAW,
    ENDED_AT,
    INFUSION,
    PLANNED_AT,
    url,
    vitals,
)
from tests.factories import make_infusion, make_site, make_subject

pytestmark = pytest.mark.django_db
D_MINUS_1 = {"drawn_at": D_MINUS_1_DRAW.isoformat(), "platelets": "72", "bleeding": False}


def correct(client, subject, record: str, body: dict):
    return client.post(url(subject, f"corrections/{record}"), body, format="json")


def corrections() -> list[tuple[str, dict, str, str]]:
    return list(DosingDayCorrection.objects.values_list("record", "changes", "reason", "deviation"))


# --- the example: a typo in a transfusion time blocked the day


def test_a_mistyped_transfusion_time_is_corrected_and_the_infusion_goes_ahead(cleared, staff, clock):
    # given: the D0 assessment recorded a transfusion at 20:00 on 9 March instead of 20:00 on 5 March
    clock(D0_MORNING)
    typo = {**ASSESSMENT, "transfusion_since_screening_at": "2026-03-09T20:00:00+08:00"}
    assert staff.post(url(cleared, "assessment"), typo, format="json").status_code == 201
    clock(AFTER_DRAWS)
    blocked = staff.post(url(cleared, "infusion"), INFUSION, format="json")
    assert blocked.status_code == 409
    assert blocked.json()["errors"]["checklist"][0].startswith("IN3:")

    # when: the transfusion time is corrected with a reason
    right = {**ASSESSMENT, "transfusion_since_screening_at": "2026-03-05T20:00:00+08:00"}
    response = correct(staff, cleared, "assessment", {**right, "reason": "Transfusion was on 5 March (ward chart)"})

    # then: the checklist passes and the infusion is recorded; the correction says what changed and why
    assert response.status_code == 200, response.json()
    assert staff.post(url(cleared, "infusion"), INFUSION, format="json").status_code == 201
    assert corrections() == [
        (
            "assessment",
            {"transfusion_since_screening_at": ["2026-03-09T12:00:00+00:00", "2026-03-05T12:00:00+00:00"]},
            "Transfusion was on 5 March (ward chart)",
            "",
        )
    ]


def test_a_correction_that_changes_nothing_is_refused(assessed, staff):
    response = correct(staff, assessed, "assessment", {**ASSESSMENT, "reason": "Checked"})

    message = "Nothing to correct: these are the values on record."
    assert (response.status_code, response.json()) == (400, {"detail": message, "errors": {}})
    assert corrections() == []


def test_a_correction_needs_a_reason(assessed, staff):
    response = correct(staff, assessed, "assessment", {**ASSESSMENT, "baseline_platelets": "66.0"})

    assert (response.status_code, response.json()["errors"]) == (400, {"reason": ["This field is required."]})
    assert corrections() == []


# --- the D−1 reconfirmation: the plan's block follows the corrected result


def test_a_d_minus_1_correction_blocks_and_clears_the_plan_again(cleared, staff):
    low = correct(staff, cleared, "reconfirmation", {**D_MINUS_1, "platelets": "45", "reason": "Lab re-issued"})
    plan = InfusionPlan.objects.get(subject=cleared)
    blocked = (plan.status, plan.blocked_reason)
    back = correct(staff, cleared, "reconfirmation", {**D_MINUS_1, "reason": "The re-issue was for another patient"})

    assert (low.status_code, back.status_code) == (200, 200)
    assert blocked == (
        "blocked",
        "D−1 2026-03-09: Not cleared: platelets 45.0×10⁹/L is outside 50–100×10⁹/L. Reschedule (a new D−1) or "
        "record a screen failure.",
    )
    assert InfusionPlan.objects.get(subject=cleared).status == "scheduled"
    assert Reconfirmation.objects.get(plan__subject=cleared).platelets == 72


def test_after_the_infusion_a_d_minus_1_that_would_not_have_cleared_needs_a_deviation(infused, staff):
    body = {**D_MINUS_1, "platelets": "45", "reason": "Lab re-issued"}

    refused = correct(staff, infused, "reconfirmation", body)
    recorded = correct(staff, infused, "reconfirmation", {**body, "deviation_reason": "Dosed on the first result"})

    broken = (
        "The corrected D−1 result would not have cleared the infusion (Not cleared: platelets 45.0×10⁹/L is outside "
        "50–100×10⁹/L. Reschedule (a new D−1) or record a screen failure)."
    )
    message = f"{broken} The step was already accepted: give the deviation reason to record the correction."
    assert (refused.status_code, refused.json()) == (
        400,
        {"detail": message, "errors": {"deviation_reason": [message]}},
    )
    assert recorded.status_code == 200
    assert corrections()[0][3] == f"{broken} Deviation: Dosed on the first result"
    assert InfusionPlan.objects.get(subject=infused).status == "infused"


def test_a_deviation_reason_without_a_broken_rule_is_refused(infused, staff):
    body = {**D_MINUS_1, "platelets": "74", "reason": "Typo", "deviation_reason": "Just in case"}

    response = correct(staff, infused, "reconfirmation", body)

    message = "Nothing in the corrected data breaks a rule the original passed: there is no deviation to explain."
    assert (response.status_code, response.json()["errors"]) == (400, {"deviation_reason": [message]})
    assert corrections() == []


# --- the infusion's times


def test_a_corrected_end_recomputes_the_draws_deviations(infused, staff):
    for minutes in (60, 120):
        drawn = (ENDED_AT + timedelta(minutes=minutes)).isoformat()
        body = {"minutes_after_end": minutes, "drawn_at": drawn, "platelets": "75"}
        assert staff.post(url(infused, "draws"), body, format="json").status_code == 201
    body = {
        "started_at": PLANNED_AT.isoformat(),
        "ended_at": (ENDED_AT + timedelta(minutes=30)).isoformat(),
        "vitals_after_measured_at": (ENDED_AT + timedelta(minutes=35)).isoformat(),
    }

    response = correct(staff, infused, "infusion", {**body, "reason": "End time from the pump log"})

    assert response.status_code == 200, response.json()
    assert Infusion.objects.get(subject=infused).ended_at == ENDED_AT + timedelta(minutes=30)
    assert list(PostInfusionDraw.objects.order_by("minutes_after_end").values_list("deviation", flat=True)) == [
        True,
        True,
    ]


def test_a_start_corrected_to_the_day_before_moves_d0_and_the_visits(infused, staff, clock):
    # the start, the end and both vital signs were all typed one day late: the subject was dosed on 9 March
    day = timedelta(days=1)
    body = {
        "started_at": (PLANNED_AT - day).isoformat(),
        "ended_at": (ENDED_AT - day).isoformat(),
        "vitals_before_measured_at": (PLANNED_AT - day - timedelta(minutes=10)).isoformat(),
        "vitals_after_measured_at": (ENDED_AT - day + timedelta(minutes=5)).isoformat(),
        "reason": "Dates from the nursing record",
    }

    refused = correct(staff, infused, "infusion", body)
    response = correct(staff, infused, "infusion", {**body, "deviation_reason": "Dosed before the planned day"})

    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["deviation_reason"]
    assert response.status_code == 200, response.json()
    visits = dict(Visit.objects.filter(subject=infused).values_list("definition__code", "target_date"))
    assert (str(visits["D0"]), str(visits["D2"]), str(visits["D30"])) == ("2026-03-09", "2026-03-11", "2026-04-08")
    assert str(Visit.objects.get(subject=infused, definition__code="D0").visit_date) == "2026-03-09"


def test_an_end_before_the_start_is_refused(infused, staff):
    body = {"started_at": ENDED_AT.isoformat(), "ended_at": PLANNED_AT.isoformat(), "reason": "x"}

    response = correct(staff, infused, "infusion", body)

    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"ended_at": ["The end cannot be before the start."]},
    )
    assert corrections() == []


def test_the_gap_to_another_infusion_is_checked_on_the_corrected_start(infused, staff, trial):
    # another subject was infused 30 hours before the plan; the start is corrected to 8 hours before it (22 h apart)
    make_infusion(subject=make_subject(site=trial), level=1, started_at=PLANNED_AT - timedelta(hours=30))
    start = PLANNED_AT - timedelta(hours=8)
    body = {
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=40)).isoformat(),
        "vitals_before_measured_at": (start - timedelta(minutes=10)).isoformat(),
        "vitals_after_measured_at": (start + timedelta(minutes=45)).isoformat(),
        "reason": "Start from the pump log",
    }

    response = correct(staff, infused, "infusion", body)

    assert response.status_code == 400
    message = response.json()["errors"]["deviation_reason"][0]
    assert message.startswith(
        "S-BJ01-002 was infused at 2026-03-09T03:00+08:00: infusions must start at least 24 hours apart."
    )
    assert (corrections(), Infusion.objects.get(subject=infused).started_at) == ([], PLANNED_AT)


def test_vital_signs_left_outside_the_corrected_times_are_named(infused, staff):
    earlier = {"started_at": (PLANNED_AT - timedelta(minutes=20)).isoformat(), "ended_at": ENDED_AT.isoformat()}

    response = correct(staff, infused, "infusion", {**earlier, "reason": "Start from the pump log"})

    message = "Vital signs before must be taken before the start."
    assert (response.status_code, response.json()) == (
        400,
        {"detail": message, "errors": {"vitals_before_measured_at": [message]}},
    )
    assert Infusion.objects.get(subject=infused).started_at == PLANNED_AT


# --- vital signs


def test_vital_signs_are_corrected_with_a_reason(infused, staff):
    body = {**vitals(PLANNED_AT - timedelta(minutes=10)), "heart_rate_bpm": 88, "phase": "before", "reason": "Typo"}

    response = correct(staff, infused, "vital-signs", body)

    assert response.status_code == 200, response.json()
    assert VitalSigns.objects.get(infusion__subject=infused, phase="before").heart_rate_bpm == 88
    assert corrections() == [("vital_signs", {"heart_rate_bpm": ["78", "88"]}, "Typo", "")]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"measured_at": "2025-06-10T08:50:00+08:00"},
            "measured_at",
            "Vital signs before are taken on the infusion day (2026-03-10); these were taken on 2025-06-10.",
        ),
        ({"diastolic_mmhg": 130}, "diastolic_mmhg", "The diastolic pressure (130) must be below the systolic (122)."),
        ({"heart_rate_bpm": 300}, "heart_rate_bpm", "Ensure this value is less than or equal to 250."),
    ],
)
def test_implausible_vital_signs_are_refused(infused, staff, change, field, message):
    body = {**vitals(PLANNED_AT - timedelta(minutes=10)), "phase": "before", "reason": "Typo", **change}

    response = correct(staff, infused, "vital-signs", body)

    assert (response.status_code, response.json()["errors"]) == (400, {field: [message]})
    assert corrections() == []


def test_vital_signs_nine_months_before_the_infusion_are_refused_when_recorded(assessed, staff, clock):
    clock(AFTER_DRAWS)
    old = datetime(2025, 6, 10, 0, 50, tzinfo=UTC)

    response = staff.post(url(assessed, "infusion"), {**INFUSION, "vitals_before": vitals(old)}, format="json")

    message = "Vital signs before are taken on the infusion day (2026-03-10); these were taken on 2025-06-10."
    assert (response.status_code, response.json()["errors"]) == (400, {"vitals_before": [message]})
    assert Infusion.objects.count() == 0


# --- fever from the infusion's vital signs (defect 8)


def test_a_fever_at_the_infusion_opens_a_fever_episode(assessed, staff, clock):
    clock(AFTER_DRAWS)
    feverish = {**vitals(ENDED_AT + timedelta(minutes=5)), "temperature_c": "38.6"}

    response = staff.post(url(assessed, "infusion"), {**INFUSION, "vitals_after": feverish}, format="json")

    assert response.status_code == 201, response.json()
    assert list(TemperatureRecord.objects.values_list("source", "grade", "action")) == [
        ("infusion vital signs (before)", None, "none"),
        ("infusion vital signs (after)", 1, "created"),
    ]
    assert list(AdverseEvent.objects.values_list("ctcae_term__code", "grade")) == [("fever", 1)]


def test_a_temperature_correction_that_changes_the_fever_grade_is_refused(infused, staff):
    body = {**vitals(ENDED_AT + timedelta(minutes=5)), "temperature_c": "38.6", "phase": "after", "reason": "Typo"}

    response = correct(staff, infused, "vital-signs", body)

    message = (
        "The corrected temperature changes the fever grade graded from it (G0 → G1): correct the fever adverse "
        "event with its reason, then the vital signs."
    )
    assert (response.status_code, response.json()) == (409, {"detail": message, "errors": {"temperature_c": [message]}})
    assert corrections() == []


# --- who may correct


def test_read_only_roles_and_other_sites_cannot_correct(infused, api_client_for, trial):
    body = {**D_MINUS_1, "platelets": "74", "reason": "Typo"}
    other = api_client_for(STUDY_COORDINATOR, make_site(code="SH02", name="Shanghai"))

    monitor = correct(api_client_for(MONITOR), infused, "reconfirmation", body)
    foreign = correct(other, infused, "reconfirmation", body)

    assert (monitor.status_code, foreign.status_code) == (403, 404)
    assert corrections() == []


# --- the admin: the same services, one form where a blank field keeps the recorded value


def test_the_admin_corrects_the_d_minus_1_count_and_keeps_the_other_values(cleared, staff, client):
    client.force_login(staff.user)
    body = {"subject": cleared.pk, "record": "reconfirmation", "platelets": "74", "reason": "Lab re-issued"}

    response = client.post("/admin/dosing/dosingdaycorrection/add/", body, follow=True)

    assert response.status_code == 200
    assert corrections() == [("reconfirmation", {"platelets": ["72.0", "74.0"]}, "Lab re-issued", "")]
    record = Reconfirmation.objects.get(plan__subject=cleared)
    assert (record.platelets, record.drawn_at, record.bleeding) == (74, D_MINUS_1_DRAW, False)


def test_the_admin_shows_the_services_refusal_on_the_form(infused, staff, client):
    client.force_login(staff.user)
    body = {"subject": infused.pk, "record": "reconfirmation", "platelets": "45", "reason": "Lab re-issued"}

    response = client.post("/admin/dosing/dosingdaycorrection/add/", body)

    errors = response.context["adminform"].form.errors
    assert list(errors) == ["deviation_reason"]
    assert errors["deviation_reason"][0].endswith("give the deviation reason to record the correction.")
    assert corrections() == []
