"""Site scoping, role permissions and the error shape on the sites and subjects API."""

import pytest

from enrollment.models import Subject
from enrollment.roles import DATA_MANAGER, INVESTIGATOR, MONITOR, SPONSOR_SAFETY, SRC_MEMBER, STUDY_COORDINATOR
from tests.factories import make_subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def subjects(site_a, site_b):
    return {"a": make_subject(site=site_a), "b": make_subject(site=site_b)}


def test_site_user_lists_only_their_sites_subjects(api_client_for, site_a, subjects):
    client = api_client_for(INVESTIGATOR, site_a)

    response = client.get("/api/v1/subjects/")

    assert response.status_code == 200
    assert [row["study_number"] for row in response.json()["results"]] == ["S-BJ01-001"]
    assert response.json()["count"] == 1


def test_other_sites_subject_is_not_found(api_client_for, site_a, subjects):
    client = api_client_for(INVESTIGATOR, site_a)

    response = client.get(f"/api/v1/subjects/{subjects['b'].pk}/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "errors": {}}


def test_other_site_is_not_found_and_not_listed(api_client_for, site_a, site_b):
    client = api_client_for(STUDY_COORDINATOR, site_a)

    assert client.get("/api/v1/sites/SH02/").status_code == 404
    assert [row["code"] for row in client.get("/api/v1/sites/").json()["results"]] == ["BJ01"]


@pytest.mark.parametrize("role", [MONITOR, SPONSOR_SAFETY])
def test_cross_site_roles_see_every_site_read_only(api_client_for, subjects, role):
    client = api_client_for(role)

    listed = client.get("/api/v1/subjects/").json()["results"]
    created = client.post("/api/v1/subjects/", {"site": "BJ01"}, format="json")

    assert sorted(row["study_number"] for row in listed) == ["S-BJ01-001", "S-SH02-001"]
    assert created.status_code == 403
    assert created.json() == {"detail": "You do not have permission to perform this action.", "errors": {}}
    assert Subject.objects.count() == 2


def test_monitor_cannot_edit_a_site(api_client_for, site_a):
    client = api_client_for(MONITOR)

    response = client.patch("/api/v1/sites/BJ01/", {"name": "Renamed", "reason": "typo"}, format="json")

    assert response.status_code == 403
    site_a.refresh_from_db()
    assert site_a.name == "Beijing"


def test_src_member_cannot_register_subjects(api_client_for, site_a):
    response = api_client_for(SRC_MEMBER, site_a).post("/api/v1/subjects/", {"site": "BJ01"}, format="json")

    assert response.status_code == 403
    assert Subject.objects.count() == 0


def test_coordinator_registers_subjects_with_consecutive_study_numbers(api_client_for, site_a):
    client = api_client_for(STUDY_COORDINATOR, site_a)

    first = client.post("/api/v1/subjects/", {"site": "BJ01"}, format="json")
    second = client.post("/api/v1/subjects/", {"site": "BJ01"}, format="json")

    assert (first.status_code, second.status_code) == (201, 201)
    assert [first.json()["study_number"], second.json()["study_number"]] == ["S-BJ01-001", "S-BJ01-002"]
    assert first.json()["status"] == "screening"


def test_registering_at_another_site_names_the_field(api_client_for, site_a, site_b):
    response = api_client_for(STUDY_COORDINATOR, site_a).post("/api/v1/subjects/", {"site": "SH02"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": "Unknown site 'SH02'.", "errors": {"site": ["Unknown site 'SH02'."]}}
    assert Subject.objects.count() == 0


def test_missing_field_gets_the_standard_error_shape(api_client_for, site_a):
    response = api_client_for(STUDY_COORDINATOR, site_a).post("/api/v1/subjects/", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "detail": "site: This field is required.",
        "errors": {"site": ["This field is required."]},
    }


def test_malformed_json_is_a_400_not_a_500(api_client_for, site_a):
    client = api_client_for(STUDY_COORDINATOR, site_a)

    response = client.post("/api/v1/subjects/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
    assert response.json()["errors"] == {}


def test_site_edit_without_reason_is_refused_and_nothing_saved(api_client_for, site_a):
    client = api_client_for(DATA_MANAGER, site_a)

    response = client.patch("/api/v1/sites/BJ01/", {"name": "Renamed"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"reason": ["A reason for change is required when editing existing data."]}
    site_a.refresh_from_db()
    assert site_a.name == "Beijing"


def test_site_edit_with_bad_time_zone_names_the_field(api_client_for, site_a):
    client = api_client_for(DATA_MANAGER, site_a)

    response = client.patch("/api/v1/sites/BJ01/", {"time_zone": "Mars/Olympus", "reason": "moved"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "time_zone": ["'Mars/Olympus' is not an IANA time zone name (e.g. Asia/Shanghai)."]
    }
    site_a.refresh_from_db()
    assert site_a.time_zone == "Asia/Shanghai"


def test_data_manager_of_another_site_cannot_edit(api_client_for, site_a, site_b):
    client = api_client_for(DATA_MANAGER, site_b)

    response = client.patch("/api/v1/sites/BJ01/", {"name": "X", "reason": "r"}, format="json")

    assert response.status_code == 404


def test_page_size_is_capped(api_client_for, site_a):
    client = api_client_for(STUDY_COORDINATOR, site_a)
    for _ in range(3):
        make_subject(site=site_a)

    response = client.get("/api/v1/subjects/?page_size=2")
    capped = client.get("/api/v1/subjects/?page_size=100000")

    assert len(response.json()["results"]) == 2
    assert response.json()["next"].endswith("page=2&page_size=2")
    assert len(capped.json()["results"]) == 3


def test_anonymous_requests_are_refused(client, site_a):
    response = client.get("/api/v1/subjects/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided.", "errors": {}}
