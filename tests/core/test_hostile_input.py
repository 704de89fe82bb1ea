"""Hostile input: deep JSON, NUL bytes, lone surrogates, over-long text and huge bodies are 4xx naming the field."""

import json
from datetime import UTC, datetime

import pytest

from enrollment.models import Screening, Subject
from enrollment.roles import INVESTIGATOR, SRC_MEMBER, STUDY_COORDINATOR
from safety.models import AdverseEvent
from tests.enrollment.documents import APPENDIX_A
from tests.factories import make_consent, make_infusion, make_screening, make_subject

pytestmark = pytest.mark.django_db
CONSENT_AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SCREENING_AT = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
NUL = "Null characters are not allowed."
SURROGATE = "Surrogate characters are not allowed: U+D800."
NOT_UTF8 = "Not valid UTF-8 text (a lone surrogate or a malformed byte sequence)."
NAUSEA = {
    "verbatim_term": "Nausea after lunch",
    "other_term": "Nausea",
    "other_meddra_code": "10028813",
    "grade": 1,
    "onset_date": "2026-06-05",
    "relatedness": "possibly",
    "expectedness": "expected",
}


def post_raw(client, url: str, body: str, method: str = "post"):
    """Send a JSON text as is (json.dumps escapes a lone surrogate as \\ud800, as an attacker's client would)."""
    return getattr(client, method)(url, data=body, content_type="application/json")


def error(field: str, message: str) -> dict:
    return {"detail": f"{field}: {message}" if field != "non_field_errors" else message, "errors": {field: [message]}}


@pytest.fixture
def coordinator(api_client_for, trial):
    return api_client_for(STUDY_COORDINATOR, trial)


@pytest.fixture
def screened(trial, clock):
    clock(CONSENT_AT)
    subject = make_subject(site=trial)
    make_consent(subject=subject, signed_at=CONSENT_AT)
    clock(SCREENING_AT)
    make_screening(subject=subject, document=APPENDIX_A)
    return subject


@pytest.fixture
def infused(trial):
    return make_infusion(
        subject=make_subject(site=trial), level=1, started_at=datetime(2026, 6, 1, 23, 0, tzinfo=UTC)
    ).subject


def screening_url(subject) -> str:
    return f"/api/v1/subjects/{subject.pk}/screenings/{Screening.objects.get(subject=subject).pk}/"


# --- nesting depth


@pytest.mark.parametrize("depth", [33, 1000, 100_000])
def test_deeply_nested_json_is_a_400(coordinator, depth):
    body = "[" * depth + "]" * depth

    response = post_raw(coordinator, "/api/v1/escalation/next/", body)

    assert response.status_code == 400
    assert response.json() == error("non_field_errors", "JSON nested deeper than 32 levels.")


def test_deep_nesting_inside_a_field_is_refused_before_any_write(coordinator, screened):
    history = Screening.history.count()
    body = json.dumps({**APPENDIX_A, "reason": "x"})[:-1] + ', "extra": ' + "[" * 40 + "]" * 40 + "}"

    response = post_raw(coordinator, screening_url(screened), body, method="put")

    assert response.status_code == 400
    assert response.json() == error("non_field_errors", "JSON nested deeper than 32 levels.")
    assert Screening.history.count() == history


def test_the_token_endpoint_refuses_deep_json_too(client):
    response = post_raw(client, "/api/v1/auth/token/", "[" * 5000 + "]" * 5000)

    assert response.status_code == 400
    assert response.json() == error("non_field_errors", "JSON nested deeper than 32 levels.")


def test_brackets_inside_strings_do_not_count_as_nesting(coordinator):
    response = post_raw(coordinator, "/api/v1/escalation/next/", json.dumps({"path": "[" * 100}))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["path"]  # the engine's own refusal of the path, not a depth error


# --- NUL bytes


def test_nul_in_the_screening_correction_reason_is_a_400_and_nothing_changes(coordinator, screened):
    history = Screening.history.count()

    response = post_raw(
        coordinator, screening_url(screened), json.dumps({**APPENDIX_A, "ecog": 2, "reason": "typo\x00"}), "put"
    )

    assert response.status_code == 400
    assert response.json() == error("reason", NUL)
    assert Screening.history.count() == history
    assert Screening.objects.get().ecog == 1


def test_nul_in_a_nested_document_field_names_its_dotted_path(coordinator, trial):
    response = post_raw(
        coordinator,
        "/api/v1/eligibility/check/",
        json.dumps({**APPENDIX_A, "labs": {**APPENDIX_A["labs"], "alt": {"value": 30, "unit": "U/L\x00"}}}),
    )

    assert response.status_code == 400
    assert response.json() == error("labs.alt.unit", NUL)


def test_nul_in_a_key_is_refused_with_the_key_escaped(coordinator, trial):
    response = post_raw(coordinator, "/api/v1/escalation/next/", json.dumps({"pa\x00th": "1N"}))

    assert response.status_code == 400
    assert response.json() == error("pa\\x00th", NUL)


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/subjects/?site=BJ01%00", "site"),
        ("/api/v1/screenings/?site=%00", "site"),
        ("/api/v1/subjects/?status=screening%00", "status"),
        ("/api/v1/subjects/?ordering=%00study_number", "ordering"),
        ("/api/v1/adverse-events/?relatedness=%00", "relatedness"),
    ],
)
def test_nul_in_a_query_parameter_is_a_400_naming_it(coordinator, url, parameter):
    response = coordinator.get(url)

    assert response.status_code == 400
    assert response.json() == error(parameter, NUL)


def test_nul_in_the_eligibility_check_site_parameter_is_a_400(coordinator):
    response = post_raw(coordinator, "/api/v1/eligibility/check/?site=%00", json.dumps(APPENDIX_A))

    assert response.status_code == 400
    assert response.json() == error("site", NUL)


def test_nul_in_a_path_is_a_400(coordinator):
    response = coordinator.get("/api/v1/sites/BJ%0001/")

    assert response.status_code == 400
    assert response.json() == error("path", NUL)


@pytest.mark.parametrize(("header", "name"), [("HTTP_AUTHORIZATION", "Authorization"), ("HTTP_COOKIE", "Cookie")])
def test_nul_in_an_auth_header_is_a_400_not_a_database_error(client, trial, header, name):
    response = client.get(
        "/api/v1/me/", **{header: "Token abc\x00def" if name == "Authorization" else "sessionid=a\x00b"}
    )

    assert response.status_code == 400
    assert response.json() == error(name, NUL)


def test_nul_in_an_admin_search_is_a_plain_400(admin_client):
    response = admin_client.get("/admin/enrollment/subject/?q=%00")

    assert response.status_code == 400
    assert response.content.decode() == f"q: {NUL}"


# --- lone surrogates


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/escalation/next/", "design"),
        ("/api/v1/escalation/next/", "titration_trigger"),
        ("/api/v1/escalation/simulate/", "design"),
        ("/api/v1/adverse-events/", "relatedness"),
        ("/api/v1/adverse-events/", "expectedness"),
        ("/api/v1/adverse-events/", "outcome"),
    ],
)
def test_a_lone_surrogate_in_a_choice_field_is_a_400_naming_it(coordinator, url, field):
    response = post_raw(coordinator, url, json.dumps({field: "\ud800"}))

    assert response.status_code == 400
    assert response.json() == error(field, SURROGATE)


@pytest.mark.parametrize("field", ["decision", "rationale"])
def test_a_lone_surrogate_in_an_src_decision_is_a_400_naming_it(api_client_for, trial, field):
    response = post_raw(api_client_for(SRC_MEMBER, trial), "/api/v1/src-decisions/", json.dumps({field: "\ud800"}))

    assert response.status_code == 400
    assert response.json() == error(field, SURROGATE)


def test_a_lone_surrogate_in_a_list_item_names_its_index(api_client_for, trial):
    response = post_raw(
        api_client_for(SRC_MEMBER, trial), "/api/v1/src-decisions/", json.dumps({"members_present": ["src", "\ud800"]})
    )

    assert response.status_code == 400
    assert response.json() == error("members_present.1", SURROGATE)


def test_a_lone_surrogate_in_the_sign_password_is_a_400(api_client_for, screened):
    investigator = api_client_for(INVESTIGATOR, screened.site)

    response = post_raw(
        investigator, f"/api/v1/screenings/{Screening.objects.get().pk}/sign/", json.dumps({"password": "\udfff"})
    )

    assert response.status_code == 400
    assert response.json() == error("password", "Surrogate characters are not allowed: U+DFFF.")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("status=%ED%A0%80", "status"), ("site=BJ%ED%B0%8001", "site"), ("ordering=%FF", "ordering")],
)
def test_a_surrogate_or_malformed_utf8_in_a_query_parameter_is_a_400(coordinator, query, parameter):
    response = coordinator.get(f"/api/v1/subjects/?{query}")

    assert response.status_code == 400
    assert response.json() == error(parameter, NOT_UTF8)


def test_malformed_utf8_in_a_body_is_a_400(coordinator):
    response = coordinator.post(
        "/api/v1/escalation/next/", data=b'{"path": "\xed\xa0\x80"}', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["detail"] == "JSON parse error - the body is not valid utf-8."


# --- over-long text


def test_over_long_ae_treatment_is_a_400_and_no_ae_is_written(coordinator, infused, time_machine):
    time_machine.move_to(datetime(2026, 6, 10, 2, 0, tzinfo=UTC), tick=False)
    investigator_payload = {"subject": infused.pk, **NAUSEA, "treatment": "x" * 2001}

    response = post_raw(coordinator, "/api/v1/adverse-events/", json.dumps(investigator_payload))

    assert response.status_code == 400
    assert response.json() == error("treatment", "Ensure this field has no more than 2000 characters.")
    assert not AdverseEvent.objects.exists()


def test_over_long_correction_reason_is_a_400_and_nothing_changes(coordinator, screened):
    history = Screening.history.count()

    response = post_raw(
        coordinator, screening_url(screened), json.dumps({**APPENDIX_A, "ecog": 2, "reason": "r" * 1001}), "put"
    )

    assert response.status_code == 400
    assert response.json() == error("reason", "Ensure this field has no more than 1000 characters.")
    assert Screening.history.count() == history


@pytest.mark.parametrize("reason", [["why"], {"why": "because"}])
def test_a_correction_reason_that_is_not_text_is_a_400(coordinator, screened, reason):
    response = post_raw(coordinator, screening_url(screened), json.dumps({**APPENDIX_A, "reason": reason}), "put")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reason"]


def test_any_string_over_the_cap_is_a_400_naming_its_path(coordinator, trial):
    document = {**APPENDIX_A, "serology": {**APPENDIX_A["serology"], "hiv_ab": "n" * 10_001}}

    response = post_raw(coordinator, "/api/v1/eligibility/check/", json.dumps(document))

    assert response.status_code == 400
    assert response.json() == error("serology.hiv_ab", "Ensure this field has no more than 10000 characters.")


def test_over_long_query_parameter_is_a_400(coordinator):
    response = coordinator.get(f"/api/v1/subjects/?site={'B' * 10_001}")

    assert response.status_code == 400
    assert response.json() == error("site", "Ensure this field has no more than 10000 characters.")


# --- body size and media type


def test_a_20_mb_body_is_a_json_413_and_nothing_is_written(coordinator, trial):
    body = json.dumps({"site": "BJ01", "padding": "x" * (20 * 1024 * 1024)})

    response = post_raw(coordinator, "/api/v1/subjects/", body)

    message = f"The request body is {len(body)} bytes; at most 1048576 bytes are accepted."
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": message, "errors": {"non_field_errors": [message]}}
    assert not Subject.objects.exists()


def test_a_20_mb_form_body_is_a_json_413_too(client):
    response = client.post(
        "/api/v1/auth/token/",
        data="username=" + "u" * (20 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 413
    assert response.json()["errors"] == {"non_field_errors": [response.json()["detail"]]}


def test_form_encoded_bodies_are_refused_outside_the_token_endpoint(coordinator, trial):
    response = coordinator.post("/api/v1/subjects/", data="site=BJ01", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert response.json() == {
        "detail": 'Unsupported media type "application/x-www-form-urlencoded" in request.',
        "errors": {},
    }
    assert not Subject.objects.exists()


def test_an_unknown_api_url_is_a_json_404(coordinator):
    response = coordinator.get("/api/v1/adverse-events/-3.2e-18/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not Found.", "errors": {}}


def test_pages_outside_the_api_keep_their_html_404(admin_client):
    response = admin_client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
