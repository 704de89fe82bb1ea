"""The dosing day over the API: schedule, D−1 reconfirmation, D0 checklist, the single infusion, draws."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction

from dosing.models import DoseSlot, Infusion, InfusionPlan, PostInfusionDraw, Reconfirmation
from dosing.selectors import escalation_status, pending_slot_count
from enrollment.models import ScreenFailure, Subject
from enrollment.roles import INVESTIGATOR, MONITOR
from enrollment.selectors import protocol_current
from safety.models import Visit
from tests.dosing.conftest import (
    AFTER_DRAWS,
    ASSESSMENT,
    D0_MORNING,
    D_MINUS_1_DRAW,
    D_MINUS_1_NOON,
    ENDED_AT,
    INFUSION,
    PLANNED_AT,
    url,
)
from tests.factories import make_site

pytestmark = pytest.mark.django_db


def post(client, subject, action, body):
    return client.post(url(subject, action), body, format="json")


def reconfirm(client, subject, platelets="72", drawn_at=D_MINUS_1_DRAW, **extra):
    body = {"drawn_at": drawn_at.isoformat(), "platelets": platelets, "bleeding": False, **extra}
    return post(client, subject, "reconfirmation", body)


def path_now(now: datetime) -> str:
    return escalation_status(protocol_current(), now=now)["path"]


# --- scheduling and D−1 in the site's time zone


def test_scheduling_derives_d_minus_1_in_the_site_time_zone(enrolled, staff):
    response = post(staff, enrolled, "schedule", {"planned_at": "2026-03-10T09:00:00+08:00"})

    assert response.status_code == 201
    plan = response.json()["plan"]
    assert (plan["d0"], plan["d_minus_1"], plan["status"], plan["dose_level"]) == (
        "2026-03-10",
        "2026-03-09",
        "scheduled",
        1,
    )


def test_d_minus_1_across_a_utc_day_boundary(enrolled, staff):
    # 07:00 on 10 March in Beijing is 23:00 UTC on 9 March: D0 is still 10 March there, so D−1 is 9 March.
    response = post(staff, enrolled, "schedule", {"planned_at": "2026-03-09T23:00:00Z"})

    assert response.status_code == 201
    assert (response.json()["plan"]["d0"], response.json()["plan"]["d_minus_1"]) == ("2026-03-10", "2026-03-09")


@pytest.mark.parametrize(
    ("planned_at", "message"),
    [
        ("2026-03-04T09:00:00+08:00", "The planned infusion time must be in the future."),
        (
            "2026-03-18T09:00:00+08:00",
            "The screening of 2026-03-03 is outside the screening window: labs are valid 14 days before D0 "
            "(2026-03-18), so the screening must be on or after 2026-03-04. Re-screen the subject.",
        ),
        (
            "2026-03-05T20:00:00+08:00",
            "D−1 would be 2026-03-04, which has passed (today is 2026-03-05): choose a later day.",
        ),
    ],
)
def test_a_plan_outside_the_limits_is_a_400_naming_planned_at(enrolled, staff, planned_at, message):
    response = post(staff, enrolled, "schedule", {"planned_at": planned_at})

    assert response.status_code == 400
    assert response.json() == {"detail": message, "errors": {"planned_at": [message]}}
    assert not InfusionPlan.objects.exists()


def test_a_naive_time_is_refused(enrolled, staff):
    response = post(staff, enrolled, "schedule", {"planned_at": "2026-03-10T09:00:00"})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "planned_at": ["Give the instant with its UTC offset, e.g. 2026-03-02T10:00:00+08:00."]
    }


def test_scheduling_twice_is_a_409(scheduled, staff):
    response = post(staff, scheduled, "schedule", {"planned_at": "2026-03-11T09:00:00+08:00"})

    assert response.status_code == 409
    assert response.json()["detail"] == "S-BJ01-001 already has a planned infusion: reschedule it instead."


def test_rescheduling_needs_a_reason_and_keeps_history(scheduled, staff):
    refused = post(staff, scheduled, "reschedule", {"planned_at": "2026-03-12T09:00:00+08:00"})
    moved = post(staff, scheduled, "reschedule", {"planned_at": "2026-03-12T09:00:00+08:00", "reason": "Bed free"})

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"reason": ["A reason for change is required when editing existing data."]}
    assert moved.status_code == 200
    assert moved.json()["plan"]["d_minus_1"] == "2026-03-11"
    history = InfusionPlan.objects.get().history.order_by("history_date")
    assert [row.history_change_reason for row in history] == [
        "Infusion scheduled for 2026-03-10T09:00+08:00",
        "Rescheduled from 2026-03-10T09:00+08:00 to 2026-03-12T09:00+08:00: Bed free",
    ]
    assert history.last().history_user == staff.user


# --- the D−1 reconfirmation


def test_an_in_range_count_on_d_minus_1_clears_the_infusion(scheduled, staff, clock):
    clock(D_MINUS_1_NOON)

    response = reconfirm(staff, scheduled)

    assert response.status_code == 201
    body = response.json()
    assert body["reconfirmation"]["cleared"] is True
    assert body["reconfirmation"]["outcome_reason"] == "Cleared: platelets 72.0×10⁹/L within 50–100×10⁹/L, no bleeding."
    assert body["reconfirmation"]["recorded_by"] == staff.user.username
    assert body["plan"]["status"] == "scheduled"


def test_a_count_drawn_on_another_day_does_not_count(scheduled, staff, clock):
    clock(D_MINUS_1_NOON)
    drawn = datetime(2026, 3, 8, 15, 30, tzinfo=UTC)  # 23:30 on 8 March in Beijing (D−2)

    response = reconfirm(staff, scheduled, drawn_at=drawn)

    message = (
        "The count was drawn on 2026-03-08 (2026-03-08T23:30+08:00), not on D−1 (2026-03-09): "
        "a count drawn on another day does not count as the reconfirmation."
    )
    assert response.status_code == 400
    assert response.json() == {"detail": message, "errors": {"drawn_at": [message]}}
    assert not Reconfirmation.objects.exists()


@pytest.mark.parametrize(
    ("platelets", "bleeding", "reason"),
    [
        ("49.9", {}, "platelets 49.9×10⁹/L is outside 50–100×10⁹/L"),
        ("101", {}, "platelets 101.0×10⁹/L is outside 50–100×10⁹/L"),
        ("80", {"bleeding": True, "bleeding_details": "Gum bleeding"}, "bleeding present"),
    ],
)
def test_out_of_range_or_bleeding_blocks_the_infusion(scheduled, staff, clock, platelets, bleeding, reason):
    clock(D_MINUS_1_NOON)
    response = reconfirm(staff, scheduled, platelets=platelets, **bleeding)
    clock(D0_MORNING)

    refused = post(staff, scheduled, "infusion", INFUSION)

    expected = f"Not cleared: {reason}. Reschedule (a new D−1) or record a screen failure."
    assert response.status_code == 201
    assert (response.json()["plan"]["status"], response.json()["reconfirmation"]["outcome_reason"]) == (
        "blocked",
        expected,
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == f"The infusion of S-BJ01-001 is blocked: D−1 2026-03-09: {expected}"
    assert not Infusion.objects.exists()


@pytest.mark.parametrize("edge", ["50", "100"])
def test_the_range_includes_its_limits(scheduled, staff, clock, edge):
    clock(D_MINUS_1_NOON)

    assert reconfirm(staff, scheduled, platelets=edge).json()["reconfirmation"]["cleared"] is True


def test_screen_failure_at_the_gate_releases_the_slot(scheduled, staff, clock):
    clock(D_MINUS_1_NOON)
    reconfirm(staff, scheduled, platelets="40")
    level = DoseSlot.objects.get().dose_level

    response = post(staff, scheduled, "screen-failure", {"reason": "D−1 platelets 40"})

    assert response.status_code == 201
    scheduled.refresh_from_db()
    slot = DoseSlot.objects.get()
    failure = ScreenFailure.objects.get()
    assert scheduled.status == Subject.Status.SCREEN_FAILED
    assert (slot.status, slot.release_reason) == ("released", "Screen failure at the dosing gate: D−1 platelets 40")
    assert InfusionPlan.objects.get().status == InfusionPlan.Status.CANCELLED
    assert (failure.reason, [c.code for c in failure.criteria.all()]) == ("Dosing gate: D−1 platelets 40", ["IN2"])
    assert pending_slot_count(level) == 0  # the next subject can take it


def test_rescheduling_a_blocked_plan_gives_a_new_d_minus_1(scheduled, staff, clock):
    clock(D_MINUS_1_NOON)
    reconfirm(staff, scheduled, platelets="40")

    moved = post(staff, scheduled, "reschedule", {"planned_at": "2026-03-12T09:00:00+08:00", "reason": "PLT low"})
    clock(datetime(2026, 3, 11, 4, 0, tzinfo=UTC))
    again = reconfirm(staff, scheduled, drawn_at=datetime(2026, 3, 11, 0, 30, tzinfo=UTC))

    assert (moved.json()["plan"]["status"], moved.json()["plan"]["d_minus_1"]) == ("scheduled", "2026-03-11")
    assert again.status_code == 201
    assert again.json()["reconfirmation"]["cleared"] is True
    assert Reconfirmation.objects.count() == 2


def test_a_second_reconfirmation_on_the_same_d_minus_1_is_a_409(cleared, staff):
    response = reconfirm(staff, cleared, platelets="99")

    assert response.status_code == 409
    assert response.json()["detail"] == "The D−1 (2026-03-09) reconfirmation of S-BJ01-001 is already recorded."


# --- the D0 checklist and the infusion record


def test_the_checklist_lists_what_is_missing_before_d_minus_1(scheduled, staff):
    response = staff.get(url(scheduled, "checklist"))

    assert response.status_code == 200
    assert [(item["code"], item["status"]) for item in response.json()] == [
        ("D0", "pass"),
        ("D-1", "missing"),
        ("BASELINE", "missing"),
        ("IN3", "missing"),
        ("EX5", "missing"),
        ("EX10", "missing"),
    ]


@pytest.mark.parametrize(
    ("hours_before", "status"),
    [(48, 409), (71, 409), (72, 201)],
)
def test_transfusion_is_checked_by_timestamp_against_the_actual_start(cleared, staff, clock, hours_before, status):
    clock(D0_MORNING)
    transfused = PLANNED_AT - timedelta(hours=hours_before)
    post(staff, cleared, "assessment", {**ASSESSMENT, "transfusion_since_screening_at": transfused.isoformat()})
    clock(AFTER_DRAWS)

    response = post(staff, cleared, "infusion", INFUSION)

    assert response.status_code == status
    if status == 409:
        local = transfused.astimezone(cleared.site.zone).isoformat(timespec="minutes")
        reason = (
            f"IN3: Last platelet transfusion at {local} is {hours_before}h00m before the start; "
            f"at least 72 hours are required."
        )
        assert response.json() == {
            "detail": f"The pre-infusion checklist blocks the infusion. {reason}",
            "errors": {"checklist": [reason]},
        }
        assert not Infusion.objects.exists()


def test_thrombopoietic_drug_and_surgery_since_screening_block(cleared, staff, clock):
    clock(D0_MORNING)
    post(
        staff,
        cleared,
        "assessment",
        {**ASSESSMENT, "thrombopoietic_since_screening_on": "2026-03-04", "surgery_since_screening_on": "2026-02-09"},
    )

    items = {item["code"]: item for item in staff.get(url(cleared, "checklist")).json()}

    assert items["EX5"] == {
        "code": "EX5",
        "status": "fail",
        "reason": "Thrombopoietic drug use on 2026-03-04 is within 7 days before the infusion day 2026-03-10 "
        "(on or after 2026-03-03).",
    }
    assert items["EX10"]["status"] == "pass"


def test_infusion_without_the_d0_assessment_is_blocked(cleared, staff, clock):
    clock(AFTER_DRAWS)

    response = post(staff, cleared, "infusion", INFUSION)

    assert response.status_code == 409
    assert response.json()["errors"]["checklist"][0] == (
        "BASELINE: Record the D0 pre-infusion assessment (baseline count and events since screening)."
    )


def test_the_infusion_doses_the_subject_and_starts_the_follow_up(infused, staff):
    infused.refresh_from_db()
    infusion = Infusion.objects.get()

    assert infused.status == Subject.Status.DOSED
    assert DoseSlot.objects.get().status == DoseSlot.Status.DOSED
    assert InfusionPlan.objects.get().status == InfusionPlan.Status.INFUSED
    assert (infusion.viable_cells_given, infusion.recorded_by) == (100_000_000, staff.user)
    assert list(infusion.vital_signs.values_list("phase", flat=True)) == ["before", "after"]
    visits = {visit.definition.code: visit for visit in Visit.objects.filter(subject=infused)}
    assert sorted(visits) == ["D0", "D14", "D2", "D28", "D3", "D30", "D7"]
    assert (visits["D0"].status, str(visits["D0"].platelets)) == ("done", "68.0")
    assert str(visits["D28"].target_date) == "2026-04-07"
    assert path_now(AFTER_DRAWS) == "1P"


def test_a_second_infusion_is_refused_by_the_api_and_by_the_database(infused, staff):
    response = post(staff, infused, "infusion", INFUSION)

    assert response.status_code == 409
    assert response.json()["detail"] == "S-BJ01-001 already has its infusion: one infusion per subject."
    first = Infusion.objects.get()
    slot = DoseSlot.objects.create(
        dose_level=first.dose_level,
        subject=infused,
        status=DoseSlot.Status.RELEASED,
        claimed_at=first.started_at,
        released_at=first.started_at,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Infusion.objects.create(
            **{f.attname: getattr(first, f.attname) for f in Infusion._meta.concrete_fields if f.name != "id"}
            | {"slot_id": slot.pk}
        )
    assert Infusion.objects.count() == 1


def test_a_dose_beyond_the_tolerance_needs_a_reason(assessed, staff, clock):
    clock(AFTER_DRAWS)
    over = {**INFUSION, "product_viable_cells": 112_000_000}

    refused = post(staff, assessed, "infusion", over)
    accepted = post(staff, assessed, "infusion", {**over, "dose_deviation_reason": "Product released at 1.12×10⁸"})

    message = (
        "The dose given (112,000,000 viable cells) differs from the level's by 12.0%, beyond the 10% tolerance: "
        "give a reason."
    )
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"dose_deviation_reason": [message]}
    assert accepted.status_code == 201
    assert accepted.json()["infusion"]["viable_cells_given"] == 112_000_000


def test_field_errors_are_named_and_nothing_is_written(assessed, staff, clock):
    clock(AFTER_DRAWS)
    bad = {**INFUSION, "ended_at": (PLANNED_AT - timedelta(minutes=1)).isoformat(), "fraction_given_percent": "60"}

    response = post(staff, assessed, "infusion", bad)

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "ended_at": ["The end cannot be before the start."],
        "fraction_given_percent": ["A partial dose needs an early stop (toxicity or another reason)."],
    }
    assert not Infusion.objects.exists()
    assert Subject.objects.get().status == Subject.Status.ENROLLED


def stop_early(client, subject, kind: str):
    body = {**INFUSION, "fraction_given_percent": "40", "early_stop": kind, "early_stop_reason": "stopped"}
    response = post(client, subject, "infusion", body)
    assert response.status_code == 201, response.json()


def test_a_non_toxicity_early_stop_is_not_evaluable(assessed, staff, clock):
    clock(AFTER_DRAWS)

    stop_early(staff, assessed, "non_toxicity")

    assert path_now(AFTER_DRAWS) == "1X"


def test_a_toxicity_early_stop_is_evaluable_and_its_dlt_counts(assessed, staff, clock):
    from safety import services as safety_services
    from tests.factories import PASSWORD, make_adverse_event, make_site_member

    clock(AFTER_DRAWS)
    stop_early(staff, assessed, "toxicity")
    held = escalation_status(protocol_current(), now=AFTER_DRAWS)

    ae = make_adverse_event(
        subject=assessed,
        onset_date=date(2026, 3, 10),
        term="infusion_related_reaction",
        grade=3,
        relatedness="probably",
        action_taken="infusion_stopped",
        actor=staff.user,
    )
    candidate = path_now(AFTER_DRAWS)
    src = make_site_member(site=assessed.site, role_key="src_member")  # DLTs are the SRC's to adjudicate
    safety_services.dlt_adjudicate(
        actor=src, ae=ae, decision="confirm", reason="Grade 3 reaction stopped the infusion", password=PASSWORD
    )

    assert held["path"] == "1P"
    assert (
        "Infusion stopped for toxicity, the adverse event that stopped it not yet recorded: S-BJ01-001 (level 1)."
        in held["blockers"]
    )
    assert candidate == "1P"
    assert path_now(AFTER_DRAWS) == "1T"


# --- post-infusion draws


def test_post_infusion_draws_are_flagged_when_off_time(infused, staff):
    on_time = post(
        staff,
        infused,
        "draws",
        {"minutes_after_end": 60, "drawn_at": (ENDED_AT + timedelta(minutes=70)).isoformat(), "platelets": "71"},
    )
    late = post(
        staff,
        infused,
        "draws",
        {"minutes_after_end": 120, "drawn_at": (ENDED_AT + timedelta(minutes=136)).isoformat(), "platelets": "75"},
    )

    assert (on_time.status_code, late.status_code) == (201, 201)
    draws = {draw.minutes_after_end: draw for draw in PostInfusionDraw.objects.all()}
    assert (draws[60].deviation, draws[60].deviation_reason) == (False, "")
    assert draws[120].deviation_reason == (
        "Drawn 0h16m late for the 120-minute draw (target 2026-03-10T11:40+08:00, allowed ±15 min)."
    )
    expected = {row["time_point"]: row["status"] for row in late.json()["draws"]}
    assert expected == {"1h": "recorded", "2h": "recorded", "4h": "due"}
    assert late.json()["missing"] == ["4h platelet draw"]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"minutes_after_end": 90},
            "minutes_after_end",
            "90 is not a scheduled draw (minutes after the end: 60, 120, 240).",
        ),
        (
            {"drawn_at": (ENDED_AT - timedelta(minutes=5)).isoformat()},
            "drawn_at",
            "The draw must be after the end of the infusion (2026-03-10T09:40+08:00).",
        ),
    ],
)
def test_a_draw_off_the_schedule_is_a_400(infused, staff, body, field, message):
    base = {"minutes_after_end": 60, "drawn_at": (ENDED_AT + timedelta(minutes=60)).isoformat(), "platelets": "70"}

    response = post(staff, infused, "draws", {**base, **body})

    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}


# --- the "today" view and access


def test_today_lists_d_minus_1_and_d0_with_what_is_missing(scheduled, staff, clock):
    clock(D_MINUS_1_NOON)
    d_minus_1 = staff.get("/api/v1/dosing/today/").json()["rows"]
    reconfirm(staff, scheduled)
    clock(D0_MORNING)
    d0 = staff.get("/api/v1/dosing/today/").json()["rows"]

    assert [(row["subject"], row["day"], row["missing"]) for row in d_minus_1] == [
        (
            "S-BJ01-001",
            "D-1",
            [
                "No platelet reconfirmation recorded on D−1 (2026-03-09).",
                "Record the D0 pre-infusion assessment (baseline count and events since screening).",
                "Record the D0 pre-infusion assessment (baseline count and events since screening).",
                "Record the D0 pre-infusion assessment (baseline count and events since screening).",
                "Record the D0 pre-infusion assessment (baseline count and events since screening).",
            ],
        )
    ]
    assert [(row["day"], row["missing"][-1]) for row in d0] == [("D0", "Record the infusion.")]


def test_another_site_cannot_see_or_act(scheduled, api_client_for):
    outsider = api_client_for(INVESTIGATOR, make_site(code="SH09", name="Elsewhere"))

    assert outsider.get(url(scheduled)).status_code == 404
    assert reconfirm(outsider, scheduled).status_code == 404
    assert outsider.get("/api/v1/dosing/today/").json()["rows"] == []


def test_a_monitor_reads_but_cannot_record(scheduled, api_client_for, trial):
    monitor = api_client_for(MONITOR, trial)

    assert monitor.get(url(scheduled)).status_code == 200
    assert reconfirm(monitor, scheduled).status_code == 403


def test_baseline_must_be_drawn_on_d0(cleared, staff, clock):
    clock(D0_MORNING)

    response = post(staff, cleared, "assessment", {**ASSESSMENT, "baseline_drawn_at": D_MINUS_1_DRAW.isoformat()})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "baseline_drawn_at": ["The baseline is drawn on D0 (2026-03-10); this was drawn on 2026-03-09."]
    }
