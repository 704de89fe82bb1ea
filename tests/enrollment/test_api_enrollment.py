"""POST /screenings/{id}/sign/, /subjects/{id}/enroll/ and /subjects/{id}/screen-fail/, and the subject views."""

import pytest

from ctit_trial.audit import system_actor
from ctit_trial.signatures import WRONG_PASSWORD
from dosing import services as dosing_services
from dosing.models import DoseSlot
from enrollment.models import EligibilitySignature, ScreenFailure, Screening
from enrollment.roles import MONITOR
from tests.enrollment.conftest import ENROLLING_AT, SIGNING_AT
from tests.enrollment.documents import APPENDIX_A, changed
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
SIGN = {"password": PASSWORD, "meaning": "eligibility confirmed"}


def sign_url(screening) -> str:
    return f"/api/v1/screenings/{screening.pk}/sign/"


@pytest.fixture
def signed(investigator, screened, clock):
    """Signed by the investigator on 03-04 over the API; level 1 open; the clock on the planned enrollment day."""
    clock(SIGNING_AT)
    assert investigator.post(sign_url(Screening.objects.get()), SIGN, format="json").status_code == 200
    dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    clock(ENROLLING_AT)
    return screened


def test_investigator_signs_and_the_status_shows_it(investigator, screened, clock):
    clock(SIGNING_AT)

    response = investigator.post(sign_url(Screening.objects.get()), SIGN, format="json")

    assert response.status_code == 200
    signature = response.json()["signature"]
    assert signature["state"] == "valid"
    assert (signature["signature"]["printed_name"], signature["signature"]["signed_at"]) == (
        "Test Investigator",
        "2026-03-04T03:00:00Z",
    )


def test_coordinator_cannot_sign(coordinator, screened):
    response = coordinator.post(sign_url(Screening.objects.get()), SIGN, format="json")

    assert response.status_code == 403
    assert EligibilitySignature.objects.count() == 0


def test_wrong_password_is_a_400_naming_the_field(investigator, screened):
    response = investigator.post(sign_url(Screening.objects.get()), {"password": "nope"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": WRONG_PASSWORD, "errors": {"password": [WRONG_PASSWORD]}}
    assert EligibilitySignature.objects.count() == 0


def test_unknown_meaning_is_refused(investigator, screened):
    response = investigator.post(sign_url(Screening.objects.get()), {**SIGN, "meaning": "approved"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"meaning": ['"approved" is not a valid choice.']}


def test_signing_an_incomplete_screening_is_a_409(investigator, consented):
    investigator.post(
        f"/api/v1/subjects/{consented.pk}/screenings/", changed({"history.investigator_excludes": None}), format="json"
    )

    response = investigator.post(sign_url(Screening.objects.get()), SIGN, format="json")

    assert response.status_code == 409
    assert response.json()["detail"] == (
        "Only an eligible screening can be signed: screening #1 of S-BJ01-001 is incomplete (review: EX21)."
    )


def test_a_changed_lab_shows_the_signature_invalidated(investigator, signed):
    screening = Screening.objects.get()
    url = f"/api/v1/subjects/{signed.pk}/screenings/{screening.pk}/"

    investigator.put(url, {**changed({"labs.inr.value": 1.0}), "reason": "INR re-run"}, format="json")

    body = investigator.get(f"/api/v1/screenings/{screening.pk}/").json()
    assert body["signature"]["state"] == "invalidated"
    assert investigator.get(f"/api/v1/subjects/{signed.pk}/").json()["current_screening"]["signature"]["state"] == (
        "invalidated"
    )


def test_enroll_claims_a_slot(investigator, signed):
    response = investigator.post(f"/api/v1/subjects/{signed.pk}/enroll/")

    assert response.status_code == 200
    body = response.json()
    assert (body["subject"]["status"], body["subject"]["enrolled_at"]) == ("enrolled", "2026-03-05T03:00:00Z")
    assert (body["dose_level"], body["dose_level_label"]) == (1, "L1")
    assert DoseSlot.objects.get().subject == signed


def test_enroll_unsigned_is_a_409_and_nothing_changes(coordinator, screened, clock):
    dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    clock(ENROLLING_AT)

    response = coordinator.post(f"/api/v1/subjects/{screened.pk}/enroll/")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "The eligibility of screening #1 of S-BJ01-001 is not signed by an investigator.",
        "errors": {},
    }
    assert coordinator.get(f"/api/v1/subjects/{screened.pk}/").json()["status"] == "screening"
    assert DoseSlot.objects.count() == 0


def test_monitor_cannot_enroll(api_client_for, signed):
    response = api_client_for(MONITOR).post(f"/api/v1/subjects/{signed.pk}/enroll/")

    assert response.status_code == 403
    assert DoseSlot.objects.count() == 0


def test_screen_fail_records_the_failing_criteria(coordinator, consented):
    coordinator.post(
        f"/api/v1/subjects/{consented.pk}/screenings/", changed({"labs.hemoglobin.value": 70}), format="json"
    )

    response = coordinator.post(f"/api/v1/subjects/{consented.pk}/screen-fail/", {"reason": "Hb 70 g/L"})

    assert response.status_code == 201
    assert (response.json()["criteria"], response.json()["reason"]) == (["EX14"], "Hb 70 g/L")
    detail = coordinator.get(f"/api/v1/subjects/{consented.pk}/").json()
    assert (detail["status"], detail["screen_failures"][0]["criteria"]) == ("screen_failed", ["EX14"])


def test_screen_fail_without_reason_is_a_400(coordinator, screened):
    response = coordinator.post(f"/api/v1/subjects/{screened.pk}/screen-fail/", {}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"reason": ["Give the reason for the screen failure."]}
    assert ScreenFailure.objects.count() == 0


def test_rescreen_after_screen_failure_over_the_api(coordinator, screened):
    coordinator.post(f"/api/v1/subjects/{screened.pk}/screen-fail/", {"reason": "PLT 42 on recheck"})

    response = coordinator.post(f"/api/v1/subjects/{screened.pk}/screenings/", APPENDIX_A, format="json")

    assert (response.status_code, response.json()["attempt"]) == (201, 2)
    listed = coordinator.get(f"/api/v1/subjects/{screened.pk}/screenings/").json()
    assert [(row["attempt"], row["is_current"]) for row in listed] == [(1, False), (2, True)]
    assert coordinator.get(f"/api/v1/subjects/{screened.pk}/").json()["status"] == "screening"


def test_enrolled_subject_cannot_be_screen_failed_here(investigator, signed):
    investigator.post(f"/api/v1/subjects/{signed.pk}/enroll/")

    response = investigator.post(f"/api/v1/subjects/{signed.pk}/screen-fail/", {"reason": "PLT 40"})

    assert response.status_code == 409
    assert response.json()["detail"] == (
        "S-BJ01-001 is enrolled: a failure after enrollment is recorded at the D−1 gate (dosing)."
    )


def test_subjects_filter_by_status_and_site(api_client_for, investigator, signed):
    investigator.post(f"/api/v1/subjects/{signed.pk}/enroll/")
    monitor = api_client_for(MONITOR)

    enrolled = monitor.get("/api/v1/subjects/?status=enrolled").json()
    at_site = monitor.get("/api/v1/subjects/?site=BJ01").json()
    elsewhere = monitor.get("/api/v1/subjects/?site=SH02").json()

    assert [row["study_number"] for row in enrolled["results"]] == ["S-BJ01-001"]
    assert (at_site["count"], elsewhere["count"]) == (1, 0)
