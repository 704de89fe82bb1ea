"""Screenings over the API: saved from the Appendix A document, corrected with a reason, scoped to the site."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollment.models import EligibilityEvaluation, Screening, ScreeningLab, ScreeningSerology
from enrollment.roles import DATA_MANAGER, INVESTIGATOR, MONITOR, STUDY_COORDINATOR
from enrollment.rules import CRITERION_CODES
from tests.enrollment.documents import APPENDIX_A, changed
from tests.factories import make_consent, make_subject

pytestmark = pytest.mark.django_db


def screenings_url(subject) -> str:
    return f"/api/v1/subjects/{subject.pk}/screenings/"


def nothing_saved() -> bool:
    models = (Screening, ScreeningLab, ScreeningSerology, EligibilityEvaluation)
    return all(model.objects.count() == 0 for model in models)


def test_saving_the_appendix_a_document_returns_the_evaluation(coordinator, consented):
    response = coordinator.post(screenings_url(consented), APPENDIX_A, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["subject"], body["attempt"], body["is_current"], body["outcome"]) == (
        "S-BJ01-001",
        1,
        True,
        "eligible",
    )
    assert body["signature"] == {"state": "unsigned", "signature": None}
    assert list(body["evaluation"]["criteria"]) == list(CRITERION_CODES)
    assert body["document"]["labs"]["platelets"] == {"value": 72.0, "unit": "10^9/L", "uln": None, "lln": None}
    assert body["document"]["consent_signed_on"] == "2026-03-02"


def test_screening_before_consent_is_a_409(coordinator, subject, clock):
    response = coordinator.post(screenings_url(subject), APPENDIX_A, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "No informed consent is recorded for S-BJ01-001: screening data cannot be entered before consent.",
        "errors": {},
    }
    assert nothing_saved()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"labs.creatinine.unit": "mmol/L"}, "labs.creatinine.unit"),
        ({"labs.platelets.value": -5}, "labs.platelets.value"),
        ({"labs.anc.value": -0.1}, "labs.anc.value"),
        ({"date_of_birth": "2026-03-05"}, "date_of_birth"),
        ({"screening_date": "2026-02-30"}, "screening_date"),
        ({"planned_infusion_at": "2026-03-10T09:00:00"}, "planned_infusion_at"),
        ({"pregnancy_test.date": "01/03/2026"}, "pregnancy_test.date"),
        ({"history.last_anticoagulant_on": "2026-13-01"}, "history.last_anticoagulant_on"),
        ({"serology.hiv_ab": "unclear"}, "serology.hiv_ab"),
        ({"ecog": 7}, "ecog"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_with_nothing_saved(coordinator, consented, changes, field):
    response = coordinator.post(screenings_url(consented), changed(changes), format="json")

    assert response.status_code == 400
    assert response.json()["detail"] == "The screening document is invalid."
    assert list(response.json()["errors"]) == [field]
    assert nothing_saved()


def test_unknown_unit_has_an_exact_message(coordinator, consented):
    response = coordinator.post(screenings_url(consented), changed({"labs.creatinine.unit": "mmol/L"}), format="json")

    assert response.json()["errors"] == {
        "labs.creatinine.unit": ["Unknown unit 'mmol/L'; expected one of: umol/L, mg/dL."]
    }


def test_consent_date_disagreeing_with_the_record_is_a_400(coordinator, consented):
    response = coordinator.post(screenings_url(consented), changed({"consent_signed_on": "2026-03-01"}), format="json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The screening document is invalid.",
        "errors": {
            "consent_signed_on": [
                "Consent date 2026-03-01 does not match the recorded consent (version 1.0, signed on 2026-03-02 at "
                "BJ01)."
            ]
        },
    }
    assert nothing_saved()


def test_a_list_body_is_refused(coordinator, consented):
    response = coordinator.post(screenings_url(consented), [APPENDIX_A], format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["Expected the screening document as a JSON object."]}


def test_correction_needs_a_reason_and_is_audited(coordinator, screened):
    screening = Screening.objects.get()
    url = f"{screenings_url(screened)}{screening.pk}/"

    refused = coordinator.put(url, changed({"ecog": 2}), format="json")
    accepted = coordinator.put(url, {**changed({"ecog": 2}), "reason": "ECOG re-assessed"}, format="json")

    assert refused.status_code == 400
    assert refused.json() == {
        "detail": "A reason for change is required when editing existing data.",
        "errors": {"reason": ["A reason for change is required when editing existing data."]},
    }
    assert accepted.status_code == 200
    assert accepted.json()["document"]["ecog"] == 2
    latest = Screening.objects.get().history.first()
    assert (latest.ecog, latest.history_user, latest.history_change_reason) == (2, coordinator.user, "ECOG re-assessed")


def test_data_manager_corrects_but_does_not_enter_screenings(api_client_for, trial, screened):
    client = api_client_for(DATA_MANAGER, trial)
    screening = Screening.objects.get()

    created = client.post(screenings_url(screened), APPENDIX_A, format="json")
    corrected = client.put(
        f"{screenings_url(screened)}{screening.pk}/", {**APPENDIX_A, "height_cm": 161, "reason": "Query 12"}
    )

    assert created.status_code == 403
    assert corrected.status_code == 200
    assert Screening.objects.get().height_cm == 161


def test_another_sites_screenings_are_not_found(api_client_for, screened, site_b):
    client = api_client_for(INVESTIGATOR, site_b)
    screening = Screening.objects.get()

    assert client.get(screenings_url(screened)).status_code == 404
    assert client.get(f"/api/v1/screenings/{screening.pk}/").status_code == 404
    assert client.post(screenings_url(screened), APPENDIX_A, format="json").status_code == 404
    assert client.get("/api/v1/screenings/").json()["count"] == 0
    assert client.get("/api/v1/eligibility-evaluations/").json()["count"] == 0


def test_monitor_reads_screenings_and_evaluations_of_every_site(api_client_for, screened):
    client = api_client_for(MONITOR)

    screenings = client.get("/api/v1/screenings/")
    evaluations = client.get("/api/v1/eligibility-evaluations/")

    assert screenings.json()["count"] == 1
    evaluation = evaluations.json()["results"][0]
    assert (evaluation["subject"], evaluation["outcome"]) == ("S-BJ01-001", "eligible")
    assert evaluation["criteria"]["IN1"] == {
        "status": "pass",
        "reason": "Age 55 on consent date 2026-03-02 is within 18–75.",
    }
    assert client.post(screenings_url(screened), APPENDIX_A, format="json").status_code == 403


def test_screenings_filter_by_site_and_current(api_client_for, screened, site_b):
    other = make_subject(site=site_b)
    make_consent(subject=other, signed_at=screened.consents.get().signed_at)
    api_client_for(STUDY_COORDINATOR, site_b).post(screenings_url(other), APPENDIX_A, format="json")
    client = api_client_for(MONITOR)

    assert client.get("/api/v1/screenings/?site=SH02").json()["count"] == 1
    assert client.get("/api/v1/screenings/?is_current=true").json()["count"] == 2
    assert client.get(f"/api/v1/screenings/?subject={screened.pk}").json()["results"][0]["subject"] == "S-BJ01-001"


def test_screening_list_queries_do_not_grow_with_rows(api_client_for, screened, trial, clock):
    client = api_client_for(MONITOR)
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/screenings/")
    for _ in range(3):
        subject = make_subject(site=trial)
        make_consent(subject=subject, signed_at=screened.consents.get().signed_at)
        api_client_for(STUDY_COORDINATOR, trial).post(screenings_url(subject), APPENDIX_A, format="json")

    with CaptureQueriesContext(connection) as four:
        response = client.get("/api/v1/screenings/")

    assert response.json()["count"] == 4
    assert len(four) == len(one)
