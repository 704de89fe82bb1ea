"""POST /api/v1/eligibility/check/: the stateless pre-screening check of an Appendix A document."""

import pytest
from django.core.management import call_command

from enrollment.models import Subject
from enrollment.roles import INVESTIGATOR, MONITOR, STUDY_COORDINATOR
from enrollment.rules import CRITERION_CODES, ENGINE_VERSION
from tests.enrollment.documents import APPENDIX_A, DELETE, changed

pytestmark = pytest.mark.django_db
URL = "/api/v1/eligibility/check/"


@pytest.fixture
def protocol():
    call_command("seed", verbosity=0)


@pytest.fixture
def investigator(api_client_for, site_a, protocol):
    return api_client_for(INVESTIGATOR, site_a)


def test_appendix_a_document_is_eligible(investigator):
    response = investigator.post(URL, APPENDIX_A, format="json")

    assert response.status_code == 200
    body = response.json()
    assert (body["outcome"], body["engine_version"], body["site"]) == ("eligible", ENGINE_VERSION, "BJ01")
    assert list(body["criteria"]) == list(CRITERION_CODES)
    assert {verdict["status"] for verdict in body["criteria"].values()} == {"pass"}


def test_platelets_above_100_make_the_subject_ineligible(investigator):
    response = investigator.post(URL, changed({"labs.platelets.value": 101}), format="json")

    assert response.json()["outcome"] == "ineligible"
    assert response.json()["criteria"]["IN2"]["status"] == "fail"
    assert "101" in response.json()["criteria"]["IN2"]["reason"]


def test_absent_data_makes_the_check_incomplete(investigator):
    response = investigator.post(URL, changed({"ecog": DELETE}), format="json")

    assert response.json()["outcome"] == "incomplete"
    assert response.json()["criteria"]["IN4"]["status"] == "missing"
    assert "ecog" in response.json()["criteria"]["IN4"]["reason"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"labs.creatinine.unit": "mmol/L"}, "labs.creatinine.unit"),
        ({"labs.platelets.value": -5}, "labs.platelets.value"),
        ({"date_of_birth": "2027-01-01"}, "date_of_birth"),
        ({"screening_date": "2026-02-30"}, "screening_date"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(investigator, changes, field):
    response = investigator.post(URL, changed(changes), format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Subject.objects.count() == 0


def test_a_list_body_is_refused(investigator):
    response = investigator.post(URL, [1, 2], format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": ["Expected the screening document as a JSON object."]}


def test_a_user_of_two_sites_must_name_one(api_client_for, site_a, site_b, protocol):
    client = api_client_for(STUDY_COORDINATOR, site_a, site_b)

    unnamed = client.post(URL, APPENDIX_A, format="json")
    named = client.post(f"{URL}?site=SH02", APPENDIX_A, format="json")

    assert unnamed.status_code == 400
    assert list(unnamed.json()["errors"]) == ["site"]
    assert (named.status_code, named.json()["site"]) == (200, "SH02")


def test_monitor_may_run_the_read_only_check_at_a_named_site(api_client_for, site_a, protocol):
    response = api_client_for(MONITOR).post(f"{URL}?site=BJ01", APPENDIX_A, format="json")

    assert response.status_code == 200


def test_without_seeded_protocol_the_check_is_a_409(api_client_for, site_a):
    response = api_client_for(INVESTIGATOR, site_a).post(URL, APPENDIX_A, format="json")

    assert response.status_code == 409
    assert response.json()["detail"] == "The protocol configuration is not loaded: run `python manage.py seed`."
