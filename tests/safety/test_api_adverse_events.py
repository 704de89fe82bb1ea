"""Adverse events through the API: record, correct with a reason, adjudicate, report an SAE; site scoping."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ctit_trial.audit import REASON_REQUIRED
from ctit_trial.signatures import WRONG_PASSWORD
from enrollment.roles import INVESTIGATOR, MONITOR, SRC_MEMBER, STUDY_COORDINATOR
from safety.models import AdverseEvent, DltAssessment, SaeReport
from tests.factories import PASSWORD, make_infusion, make_subject

pytestmark = pytest.mark.django_db
INFUSED_AT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # D0 = 2 June in Shanghai
NOW = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)
NAUSEA = {
    "verbatim_term": "Nausea after lunch",
    "other_term": "Nausea",
    "other_meddra_code": "10028813",
    "grade": 3,
    "onset_date": "2026-06-05",
    "relatedness": "possibly",
    "expectedness": "expected",
}
SAE = {
    "verbatim_term": "Deep vein thrombosis, left leg",
    "ctcae_term": "thromboembolic_event",
    "grade": 3,
    "onset_date": "2026-06-08",
    "serious": True,
    "sae_hospitalization": True,
    "awareness_at": "2026-06-09T09:00:00+08:00",
    "relatedness": "probably",
    "expectedness": "unexpected",
    "treatment": "Enoxaparin",
}


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def subject(site_a):
    call_command("seed", verbosity=0)
    return make_infusion(subject=make_subject(site=site_a), level=1, started_at=INFUSED_AT).subject


@pytest.fixture
def investigator(api_client_for, site_a):
    return api_client_for(INVESTIGATOR, site_a)


def create(client, subject, payload):
    return client.post("/api/v1/adverse-events/", {"subject": subject.pk, **payload}, format="json")


def test_record_returns_derived_study_day_flag_and_clocks(subject, investigator):
    response = create(investigator, subject, SAE)

    assert response.status_code == 201
    body = response.json()
    assert (body["subject"], body["term"], body["meddra_code"], body["ctcae_version"]) == (
        "S-BJ01-001",
        "Thromboembolic event",
        "10043565",
        "5.0",
    )
    assert (body["onset_study_day"], body["treatment_emergent"], body["ongoing"], body["susar"]) == (
        6,
        True,
        True,
        True,
    )
    assert body["dlt"]["is_candidate"] is True
    assert (body["dlt"]["rule"], body["dlt"]["state"]) == ("thromboembolic_event", "pending")
    assert body["sae"] == {
        "awareness_at": "2026-06-09T01:00:00Z",
        "report_deadline": "2026-06-10T01:00:00Z",
        "status": "overdue",
        "sponsor_reported_at": None,
        "reported_by": None,
        "meaning": None,
        "signed_at": None,
        "signature_valid": None,
    }
    assert body["susar_clock"] is None  # the sponsor does not know of it yet


def test_bad_input_is_a_400_naming_the_field_with_nothing_saved(subject, investigator):
    anaphylaxis = create(
        investigator,
        subject,
        {**NAUSEA, "other_term": "", "other_meddra_code": "", "ctcae_term": "anaphylaxis", "grade": 2},
    )
    unknown_term = create(investigator, subject, {**NAUSEA, "ctcae_term": "nausea_v9"})
    bad_grade = create(investigator, subject, {**NAUSEA, "grade": 6})

    assert anaphylaxis.status_code == 400
    assert anaphylaxis.json() == {
        "detail": "Anaphylaxis has no grade 2 in CTCAE (grades 3, 4, 5).",
        "errors": {"grade": ["Anaphylaxis has no grade 2 in CTCAE (grades 3, 4, 5)."]},
    }
    assert (unknown_term.status_code, list(unknown_term.json()["errors"])) == (400, ["ctcae_term"])
    assert (bad_grade.status_code, list(bad_grade.json()["errors"])) == (400, ["grade"])
    assert AdverseEvent.objects.count() == DltAssessment.objects.count() == 0


def test_another_sites_subject_cannot_be_given(subject, api_client_for, site_b):
    response = create(api_client_for(INVESTIGATOR, site_b), subject, NAUSEA)

    assert response.status_code == 400
    assert response.json()["errors"] == {"subject": ["Unknown subject: give the id of a subject of your site."]}


def test_a_correction_needs_a_reason(subject, investigator):
    ae_id = create(investigator, subject, NAUSEA).json()["id"]
    url = f"/api/v1/adverse-events/{ae_id}/"

    refused = investigator.patch(url, {"grade": 2}, format="json")
    corrected = investigator.patch(url, {"grade": 2, "reason": "Grade re-assessed"}, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"reason": [REASON_REQUIRED]}
    assert (corrected.status_code, corrected.json()["grade"], corrected.json()["dlt"]["is_candidate"]) == (
        200,
        2,
        False,
    )
    assert AdverseEvent.objects.get().history.first().history_change_reason == "Grade re-assessed"
    assert investigator.put(url, {**NAUSEA, "subject": subject.pk}, format="json").status_code == 405
    assert (investigator.delete(url).status_code, AdverseEvent.objects.count()) == (405, 1)  # no delete at all


def test_adjudication_through_the_api(subject, investigator, api_client_for, site_a):
    ae_id = create(investigator, subject, NAUSEA).json()["id"]
    src = api_client_for(SRC_MEMBER, site_a)
    coordinator = api_client_for(STUDY_COORDINATOR, site_a)
    url = f"/api/v1/adverse-events/{ae_id}/adjudicate/"
    payload = {"decision": "confirm", "reason": "Grade 3 nausea, related", "password": PASSWORD}

    forbidden = coordinator.post(url, payload, format="json")
    wrong = src.post(url, {**payload, "password": "nope"}, format="json")
    confirmed = src.post(url, payload, format="json")
    candidates = investigator.get("/api/v1/adverse-events/?dlt_candidate=true").json()

    assert forbidden.status_code == 403
    assert wrong.json() == {"detail": WRONG_PASSWORD, "errors": {"password": [WRONG_PASSWORD]}}
    dlt = confirmed.json()["dlt"]
    assert (dlt["state"], dlt["decision"], dlt["printed_name"], dlt["signed_at"]) == (
        "confirmed",
        "confirm",
        "Test Src_Member",
        "2026-06-10T02:00:00Z",
    )
    assert [row["id"] for row in candidates["results"]] == [ae_id]


def test_sae_report_through_the_api(subject, investigator):
    ae_id = create(investigator, subject, SAE).json()["id"]
    url = f"/api/v1/adverse-events/{ae_id}/sae-report/"

    response = investigator.post(url, {"reported_at": "2026-06-09T20:00:00+08:00", "password": PASSWORD}, format="json")

    assert response.status_code == 200
    sae = response.json()["sae"]
    assert (sae["status"], sae["sponsor_reported_at"], sae["reported_by"], sae["signature_valid"]) == (
        "on_time",
        "2026-06-09T12:00:00Z",
        "Test Investigator",
        True,
    )
    susar = response.json()["susar_clock"]
    assert (susar["sponsor_aware_on"], susar["initial_report_due"], susar["status"]) == (
        "2026-06-09",
        "2026-06-24",
        "due",
    )
    assert SaeReport.objects.count() == 1


def test_another_sites_adverse_events_are_not_found(subject, investigator, api_client_for, site_b):
    ae_id = create(investigator, subject, NAUSEA).json()["id"]
    outsider = api_client_for(INVESTIGATOR, site_b)
    outside_src = api_client_for(SRC_MEMBER, site_b)
    payload = {"decision": "confirm", "reason": "x", "password": PASSWORD}

    assert outsider.get(f"/api/v1/adverse-events/{ae_id}/").status_code == 404
    assert outsider.patch(f"/api/v1/adverse-events/{ae_id}/", {"grade": 2, "reason": "x"}).status_code == 404
    assert outside_src.post(f"/api/v1/adverse-events/{ae_id}/adjudicate/", payload).status_code == 404
    assert outsider.get("/api/v1/adverse-events/").json()["count"] == 0
    assert api_client_for(MONITOR).get("/api/v1/adverse-events/").json()["count"] == 1


def test_lab_results_open_a_graded_ae(subject, investigator):
    url = f"/api/v1/subjects/{subject.pk}/lab-results/"
    payload = {"analyte": "inr_increased", "value": "1.6", "unit": "ratio", "observed_on": "2026-06-04"}

    response = investigator.post(url, payload, format="json")
    missing = investigator.post(url, {**payload, "analyte": "alt_increased", "unit": "U/L"}, format="json")

    body = response.json()
    assert (body["grade"], body["action"], body["reason"]) == (2, "created", "INR increased 1.6: > 1.5 → grade 2")
    assert (body["adverse_event"]["source"], body["adverse_event"]["relatedness"]) == ("lab", "")
    assert missing.json()["errors"] == {
        "uln": ["Alanine aminotransferase increased needs the ULN to grade this value."]
    }


def test_the_list_reads_a_fixed_number_of_queries(subject, investigator):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert investigator.get("/api/v1/adverse-events/").status_code == 200
        return len(captured)

    create(investigator, subject, NAUSEA)
    with_one = queries_for_list()
    for _ in range(4):
        create(investigator, subject, SAE)

    assert queries_for_list() == with_one
