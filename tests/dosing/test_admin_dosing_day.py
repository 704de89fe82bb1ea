"""The dosing day in the admin: add forms record through the services, the "Dosing today" page, site scoping."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dosing.models import Infusion, InfusionPlan, PreInfusionAssessment, Reconfirmation
from enrollment.roles import INVESTIGATOR
from tests.dosing.conftest import D0_MORNING, D_MINUS_1_NOON
from tests.factories import make_site, make_staff_user

pytestmark = pytest.mark.django_db

RECONFIRMATION_ADD = "/admin/dosing/reconfirmation/add/"
PLAN_ADD = "/admin/dosing/infusionplan/add/"
PLAN_LIST = "/admin/dosing/infusionplan/"
TODAY = "/admin/dosing/infusionplan/today/"
NOT_A_CHOICE = "Select a valid choice. That choice is not one of the available choices."


@pytest.fixture
def admin_for(client):
    """admin_for(site) -> the test client logged in as an investigator of that site."""

    def login(site):
        user = make_staff_user(role_key=INVESTIGATOR, sites=[site])
        client.force_login(user)
        client.user = user
        return client

    return login


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


def reconfirmation_body(subject, *, day: str, time: str) -> dict:
    """The admin's split date/time widget: the day and time are separate inputs, read in the site's zone (Beijing)."""
    return {"subject": subject.pk, "drawn_at_0": day, "drawn_at_1": time, "platelets": "72", "bleeding_details": ""}


# --- the D−1 reconfirmation add form


def test_reconfirmation_added_in_admin_is_recorded_by_the_service(scheduled, admin_for, trial, clock):
    clock(D_MINUS_1_NOON)
    client = admin_for(trial)

    response = client.post(RECONFIRMATION_ADD, reconfirmation_body(scheduled, day="2026-03-09", time="08:30:00"))

    assert response.status_code == 302
    assert response["Location"] == "/admin/dosing/reconfirmation/"
    record = Reconfirmation.objects.get()
    assert (record.plan.subject, record.d_minus_1, record.drawn_at, record.platelets) == (
        scheduled,
        date(2026, 3, 9),
        datetime(2026, 3, 9, 0, 30, tzinfo=UTC),
        Decimal("72.0"),
    )
    assert (record.bleeding, record.cleared, record.recorded_by) == (False, True, client.user)
    assert record.history.get().history_change_reason == (
        "D−1 reconfirmation recorded: Cleared: platelets 72.0×10⁹/L within 50–100×10⁹/L, no bleeding."
    )


def test_reconfirmation_drawn_on_another_day_shows_the_service_message_on_drawn_at(scheduled, admin_for, trial, clock):
    clock(D_MINUS_1_NOON)
    client = admin_for(trial)

    # 23:30 on 8 March in Beijing (D−2), typed as a Beijing coordinator would
    response = client.post(RECONFIRMATION_ADD, reconfirmation_body(scheduled, day="2026-03-08", time="23:30:00"))

    message = (
        "The count was drawn on 2026-03-08 (2026-03-08T23:30+08:00), not on D−1 (2026-03-09): "
        "a count drawn on another day does not count as the reconfirmation."
    )
    assert response.status_code == 200
    assert form_errors(response) == {"drawn_at": [message]}
    assert message in response.content.decode()
    assert not Reconfirmation.objects.exists()
    assert InfusionPlan.objects.get().status == InfusionPlan.Status.SCHEDULED


def test_assessment_added_in_admin_is_recorded_by_the_service(cleared, admin_for, trial, clock):
    clock(D0_MORNING)
    client = admin_for(trial)
    body = {
        "subject": cleared.pk,
        "baseline_platelets": "68.0",
        "baseline_drawn_at_0": "2026-03-10",
        "baseline_drawn_at_1": "08:15:00",
        "transfusion_since_screening_at_0": "",
        "transfusion_since_screening_at_1": "",
        "thrombopoietic_since_screening_on": "",
        "surgery_since_screening_on": "",
    }

    response = client.post("/admin/dosing/preinfusionassessment/add/", body)

    assert response.status_code == 302
    assessment = PreInfusionAssessment.objects.get()
    assert (assessment.d0, assessment.baseline_platelets, assessment.recorded_by) == (
        date(2026, 3, 10),
        Decimal("68.0"),
        client.user,
    )


# --- the infusion plan add form


def test_plan_added_in_admin_is_scheduled_by_the_service(enrolled, admin_for, trial):
    client = admin_for(trial)

    response = client.post(PLAN_ADD, {"subject": enrolled.pk, "planned_at_0": "2026-03-10", "planned_at_1": "09:00:00"})

    assert response.status_code == 302
    assert response["Location"] == PLAN_LIST
    plan = InfusionPlan.objects.get()
    assert (plan.subject, plan.planned_at, plan.d_minus_1, plan.status) == (
        enrolled,
        datetime(2026, 3, 10, 1, 0, tzinfo=UTC),
        date(2026, 3, 9),
        InfusionPlan.Status.SCHEDULED,
    )
    assert plan.history.get().history_user == client.user


def test_plan_in_the_past_shows_the_planned_at_error(enrolled, admin_for, trial):
    client = admin_for(trial)

    response = client.post(PLAN_ADD, {"subject": enrolled.pk, "planned_at_0": "2026-03-04", "planned_at_1": "09:00:00"})

    assert response.status_code == 200
    assert form_errors(response) == {"planned_at": ["The planned infusion time must be in the future."]}
    assert not InfusionPlan.objects.exists()


# --- the "Dosing today" page


def test_dosing_today_lists_the_subject_on_d_minus_1_with_what_is_missing(scheduled, admin_for, trial, clock):
    clock(D_MINUS_1_NOON)
    client = admin_for(trial)

    response = client.get(TODAY)

    html = response.content.decode()
    assert response.status_code == 200
    assert [(row["subject"].study_number, row["day"], row["missing"][0]) for row in response.context["rows"]] == [
        ("S-BJ01-001", "D-1", "No platelet reconfirmation recorded on D−1 (2026-03-09).")
    ]
    assert "<td>S-BJ01-001</td><td>BJ01</td><td>L1 · 1.0 × 10⁸ cells</td><td>D−1</td>" in html
    assert "<li>No platelet reconfirmation recorded on D−1 (2026-03-09).</li>" in html


# --- another site


def test_another_site_sees_no_plan_and_has_no_subject_to_choose(scheduled, admin_for, clock):
    clock(D_MINUS_1_NOON)
    client = admin_for(make_site(code="SH09", name="Elsewhere"))

    changelist = client.get(PLAN_LIST)
    add_form = client.get(PLAN_ADD)
    today = client.get(TODAY)
    change = client.get(f"/admin/dosing/infusionplan/{InfusionPlan.objects.get().pk}/change/")

    assert changelist.status_code == 200
    assert list(changelist.context["cl"].result_list) == []
    assert "S-BJ01-001" not in changelist.content.decode()
    assert list(add_form.context["adminform"].form.fields["subject"].queryset) == []
    assert today.context["rows"] == []
    assert "No subject has D−1 or D0 today at your sites." in today.content.decode()
    assert change.status_code == 404


def test_another_site_cannot_schedule_a_subject_it_does_not_see(enrolled, admin_for):
    client = admin_for(make_site(code="SH09", name="Elsewhere"))

    response = client.post(PLAN_ADD, {"subject": enrolled.pk, "planned_at_0": "2026-03-10", "planned_at_1": "09:00:00"})

    assert response.status_code == 200
    assert form_errors(response) == {"subject": [NOT_A_CHOICE]}
    assert not InfusionPlan.objects.exists()


# --- the recorded infusion


def test_infusion_change_page_shows_its_vital_signs_inline(infused, admin_for, trial):
    client = admin_for(trial)
    infusion = Infusion.objects.get()

    response = client.get(f"/admin/dosing/infusion/{infusion.pk}/change/")

    html = response.content.decode()
    assert response.status_code == 200
    vitals = next(
        inline for inline in response.context["inline_admin_formsets"] if inline.opts.model.__name__ == "VitalSigns"
    )
    assert [
        (form.instance.phase, form.instance.heart_rate_bpm, form.instance.temperature_c) for form in vitals.formset
    ] == [("before", 78, Decimal("36.8")), ("after", 78, Decimal("36.8"))]
    assert "Before the infusion" in html
    assert "After the infusion" in html
    assert [column["label"] for column in vitals.fields()] == [
        "phase",
        "measured at",
        "temperature (°C)",
        "heart rate (beats/min)",
        "systolic blood pressure (mmHg)",
        "diastolic blood pressure (mmHg)",
        "respiratory rate (breaths/min)",
        "SpO₂ (%)",
    ]
    assert "Temperature (°C)" in html
    assert "1.0 × 10⁸ cells" in html and "100000000" not in html
    assert "Temperature c" not in html


# --- rescheduling and the screen failure at the gate: acts on the plan's page


def test_the_plan_is_rescheduled_from_its_page_at_a_beijing_time(scheduled, admin_for, trial):
    client = admin_for(trial)
    plan = InfusionPlan.objects.get()
    act = f"/admin/dosing/infusionplan/{plan.pk}/act/reschedule/"

    page = client.get(f"/admin/dosing/infusionplan/{plan.pk}/change/").content.decode()
    missing_reason = client.post(act, {"planned_at_0": "2026-03-12", "planned_at_1": "09:30"})
    moved = client.post(act, {"planned_at_0": "2026-03-12", "planned_at_1": "09:30", "reason": "Product release"})

    assert act in page
    assert list(missing_reason.context["form"].errors) == ["reason"]
    assert moved.status_code == 302
    plan.refresh_from_db()
    assert (plan.planned_at, plan.d_minus_1) == (datetime(2026, 3, 12, 1, 30, tzinfo=UTC), date(2026, 3, 11))


def test_a_screen_failure_at_the_gate_cancels_the_plan(scheduled, admin_for, trial):
    client = admin_for(trial)
    plan = InfusionPlan.objects.get()

    response = client.post(f"/admin/dosing/infusionplan/{plan.pk}/act/gate_fail/", {"reason": "Active infection"})

    assert response.status_code == 302
    plan.refresh_from_db()
    scheduled.refresh_from_db()
    assert (plan.status, scheduled.status) == (InfusionPlan.Status.CANCELLED, "screen_failed")
