"""GET/PUT /subjects/{id}/identity/ (identifiers for coordinators and investigators only) and the consent API."""

import pytest

from enrollment.models import Consent, SubjectIdentity
from enrollment.roles import DATA_MANAGER, INVESTIGATOR, MONITOR, SPONSOR_SAFETY, SRC_MEMBER, STUDY_COORDINATOR
from tests.enrollment.conftest import CONSENT_AT
from tests.factories import make_subject

pytestmark = pytest.mark.django_db

IDENTITY = {"full_name": "Li Na", "national_id": "110101197005011234", "phone": "+86 10 1234 5678", "email": ""}
INVALID_INSTANT = (
    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
)
NO_PERMISSION = {"detail": "You do not have permission to perform this action.", "errors": {}}


def identity_url(subject) -> str:
    return f"/api/v1/subjects/{subject.pk}/identity/"


def consent_url(subject) -> str:
    return f"/api/v1/subjects/{subject.pk}/consent/"


def test_coordinator_records_identifiers_and_investigator_reads_them(coordinator, investigator, subject):
    saved = coordinator.put(identity_url(subject), IDENTITY, format="json")
    read = investigator.get(identity_url(subject))

    assert saved.status_code == 200
    assert read.status_code == 200
    assert read.json() == {"subject": "S-BJ01-001", **IDENTITY}
    assert SubjectIdentity.objects.get().history.first().history_change_reason == "Identifiers recorded"


@pytest.mark.parametrize("role", [MONITOR, SPONSOR_SAFETY, SRC_MEMBER, DATA_MANAGER])
def test_identifiers_are_hidden_from_other_roles(api_client_for, coordinator, subject, trial, role):
    coordinator.put(identity_url(subject), IDENTITY, format="json")
    client = api_client_for(role, trial)

    read = client.get(identity_url(subject))
    written = client.put(identity_url(subject), {**IDENTITY, "full_name": "X", "reason": "r"}, format="json")

    assert (read.status_code, written.status_code) == (403, 403)
    assert read.json() == NO_PERMISSION
    assert SubjectIdentity.objects.get().full_name == "Li Na"


def test_identifiers_never_appear_in_subject_lists_or_details(coordinator, subject):
    coordinator.put(identity_url(subject), IDENTITY, format="json")

    listed = coordinator.get("/api/v1/subjects/").content.decode()
    detail = coordinator.get(f"/api/v1/subjects/{subject.pk}/").content.decode()

    for text in (listed, detail):
        assert "Li Na" not in text
        assert "110101197005011234" not in text


def test_another_sites_subject_identity_is_not_found(api_client_for, subject, site_b):
    other = make_subject(site=site_b)
    client = api_client_for(STUDY_COORDINATOR, site_b)

    response = client.get(identity_url(subject))

    assert response.status_code == 404
    assert client.get(identity_url(other)).json() == {
        "detail": "No identifiers are recorded for S-SH02-001.",
        "errors": {},
    }


def test_correcting_identifiers_needs_a_reason_and_keeps_history(coordinator, subject):
    coordinator.put(identity_url(subject), IDENTITY, format="json")

    refused = coordinator.put(identity_url(subject), {**IDENTITY, "phone": "+86 10 0000 0000"}, format="json")
    accepted = coordinator.put(
        identity_url(subject), {**IDENTITY, "phone": "+86 10 0000 0000", "reason": "New number"}, format="json"
    )

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"reason": ["A reason for change is required when editing existing data."]}
    assert accepted.status_code == 200
    latest, previous = SubjectIdentity.objects.get().history.all()[:2]
    assert (previous.phone, latest.phone) == ("+86 10 1234 5678", "+86 10 0000 0000")
    assert (latest.history_user, latest.history_change_reason) == (coordinator.user, "New number")


def test_bad_email_names_the_field(coordinator, subject):
    response = coordinator.put(identity_url(subject), {**IDENTITY, "email": "not-an-email"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"email": ["Enter a valid email address."]}
    assert SubjectIdentity.objects.count() == 0


def test_consent_is_recorded_with_its_site_local_date(coordinator, subject, clock):
    clock(CONSENT_AT)

    response = coordinator.post(
        consent_url(subject), {"version": "2.1", "signed_at": "2026-03-02T01:30:00+08:00"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["version"], body["signed_at"], body["signed_on"]) == ("2.1", "2026-03-01T17:30:00Z", "2026-03-02")
    assert (body["obtained_by"], body["recorded_by"]) == (coordinator.user.username, coordinator.user.username)
    assert coordinator.get(consent_url(subject)).json()[0]["id"] == body["id"]


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        (
            {"version": "1.0", "signed_at": "2026-03-02T10:00:00"},
            {"signed_at": ["Give the instant with its UTC offset, e.g. 2026-03-02T10:00:00+08:00."]},
        ),
        (
            {"version": "1.0", "signed_at": "2026-03-02T11:00:00+08:00"},
            {"signed_at": ["Consent cannot be signed in the future."]},
        ),
        (
            {"version": "1.0", "signed_at": "2026-02-30T10:00:00+08:00"},
            {"signed_at": [INVALID_INSTANT]},
        ),
        ({"signed_at": "2026-03-02T09:00:00+08:00"}, {"version": ["This field is required."]}),
        (
            {"version": "1.0", "signed_at": "2026-03-02T09:00:00+08:00", "obtained_by": "nobody"},
            {"obtained_by": ["Unknown user 'nobody'."]},
        ),
    ],
)
def test_bad_consent_names_the_field_and_saves_nothing(coordinator, subject, clock, payload, errors):
    clock(CONSENT_AT)  # 10:00 in Beijing

    response = coordinator.post(consent_url(subject), payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert Consent.objects.count() == 0


def test_consent_obtained_by_staff_of_another_site_is_refused(api_client_for, coordinator, subject, site_b, clock):
    clock(CONSENT_AT)
    outsider = api_client_for(INVESTIGATOR, site_b).user
    payload = {"version": "1.0", "signed_at": "2026-03-02T09:00:00+08:00", "obtained_by": outsider.username}

    response = coordinator.post(consent_url(subject), payload, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"obtained_by": [f"{outsider.username} does not work at site BJ01."]}


def test_monitor_reads_consents_but_cannot_record_one(api_client_for, subject, clock):
    clock(CONSENT_AT)
    monitor = api_client_for(MONITOR)

    read = monitor.get(consent_url(subject))
    written = monitor.post(consent_url(subject), {"version": "1", "signed_at": "2026-03-02T09:00:00+08:00"})

    assert (read.status_code, read.json()) == (200, [])
    assert written.status_code == 403
    assert Consent.objects.count() == 0
