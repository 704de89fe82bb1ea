"""The enrollment acts on the admin's record pages, from consent to enrollment, through the API's services:
a button for the roles holding the act, the service's refusal on the field, a history row naming the user."""

from datetime import UTC, datetime

import pytest

from enrollment import selectors
from enrollment.models import Consent, EligibilitySignature, ScreenFailure, Screening, ScreeningLab, Subject
from enrollment.roles import INVESTIGATOR, MONITOR, STUDY_COORDINATOR
from tests.enrollment.conftest import SIGNING_AT
from tests.enrollment.documents import APPENDIX_A
from tests.factories import PASSWORD, make_staff_user

pytestmark = pytest.mark.django_db
SUBMIT = {"submit": "Enroll"}  # a browser posts the submit button (and the CSRF token) with a form without fields


@pytest.fixture
def login(client, trial):
    def as_role(role: str):
        user = make_staff_user(role_key=role, sites=[] if role == MONITOR else [trial])
        client.force_login(user)
        client.user = user
        return client

    return as_role


def subject_page(client, subject) -> str:
    return client.get(f"/admin/enrollment/subject/{subject.pk}/change/").content.decode()


def act_url(model: str, pk: int, name: str) -> str:
    return f"/admin/enrollment/{model}/{pk}/act/{name}/"


def document_form(document: dict) -> dict:
    """The Appendix A document as the admin form's POST body (fields named by path with '__')."""
    body = {}
    for key, value in document.items():
        if key == "consent_signed_on":
            continue
        if key == "labs":
            for analyte, lab in value.items():
                body |= {f"labs__{analyte}__{part}": str(item) for part, item in lab.items()}
        elif isinstance(value, dict):
            body |= {f"{key}__{name}": _field(item) for name, item in value.items()}
        elif key == "planned_infusion_at":
            when = datetime.fromisoformat(value)
            body |= {f"{key}_0": when.date().isoformat(), f"{key}_1": when.strftime("%H:%M")}
        else:
            body[key] = _field(value)
    return body


def _field(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


# --- record consent -------------------------------------------------------------------------------------------
def test_consent_button_for_a_coordinator_not_for_a_monitor(login, subject):
    assert "Record consent" in subject_page(login(STUDY_COORDINATOR), subject)
    monitor = login(MONITOR)
    assert "Record consent" not in subject_page(monitor, subject)
    assert monitor.get(act_url("subject", subject.pk, "consent")).status_code == 403


def test_consent_in_the_future_is_refused_on_its_field(login, subject):
    client = login(STUDY_COORDINATOR)

    body = {"version": "2.0", "signed_at_0": "2026-03-02", "signed_at_1": "09:00"}  # the clock is at 2026-03-01
    response = client.post(act_url("subject", subject.pk, "consent"), body)

    assert response.status_code == 200
    assert response.context["form"].errors == {"signed_at": ["Consent cannot be signed in the future."]}
    assert not Consent.objects.exists()


def test_consent_typed_in_beijing_time_is_recorded_by_the_service_with_its_history(login, subject, clock):
    # given a coordinator at BJ01 on 2 March
    clock(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    client = login(STUDY_COORDINATOR)

    # when the consent signed at 10:00 Beijing time is recorded
    body = {"version": "2.0", "signed_at_0": "2026-03-02", "signed_at_1": "10:00"}
    response = client.post(act_url("subject", subject.pk, "consent"), body)

    # then it is stored as 02:00 UTC, obtained and recorded by the coordinator
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.version, consent.signed_at) == ("2.0", datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    assert consent.obtained_by == consent.recorded_by == client.user
    row = consent.history.get()
    assert (row.history_user, row.history_change_reason) == (client.user, "Informed consent recorded")


# --- the screening document -----------------------------------------------------------------------------------
def test_screening_document_saved_and_evaluated_through_the_service(login, consented):
    client = login(STUDY_COORDINATOR)
    assert "Screening document (Appendix A)" in subject_page(client, consented)

    response = client.post(act_url("subject", consented.pk, "screening"), document_form(APPENDIX_A))

    assert response.status_code == 302, response.context["form"].errors
    screening = Screening.objects.get()
    assert screening.ecog == 1
    assert ScreeningLab.objects.get(screening=screening, analyte="platelets").value == 72
    assert selectors.evaluation_current(screening).outcome == "eligible"
    row = screening.history.get()
    assert (row.history_user, row.history_change_reason) == (client.user, "Screening recorded")


def test_screening_document_bad_unit_is_refused_on_the_lab_field_with_the_apis_message(login, consented):
    client = login(STUDY_COORDINATOR)
    body = document_form(APPENDIX_A) | {"labs__platelets__unit": "g/L"}

    response = client.post(act_url("subject", consented.pk, "screening"), body)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["labs__platelets__unit"]
    assert "g/L" in errors["labs__platelets__unit"][0]
    assert not Screening.objects.exists()


def test_screening_document_corrects_the_current_screening_with_a_reason(login, screened):
    client = login(STUDY_COORDINATOR)
    assert "Correct screening document" in subject_page(client, screened)
    assert "Screening document (Appendix A)" not in subject_page(client, screened)
    url = act_url("subject", screened.pk, "correct_screening")
    assert 'name="reason"' in client.get(url).content.decode()
    body = document_form(APPENDIX_A) | {"ecog": "2"}

    refused = client.post(url, body)
    response = client.post(url, body | {"reason": "ECOG transcription error"})

    assert refused.context["form"].errors == {"reason": ["A reason for change is required when editing existing data."]}
    assert response.status_code == 302
    screening = Screening.objects.get()
    assert screening.ecog == 2
    row = screening.history.latest()
    assert (row.history_user, row.history_change_reason) == (client.user, "ECOG transcription error")


# --- evaluate and sign on the screening page ------------------------------------------------------------------
def test_screening_page_shows_each_criterions_verdict_and_the_acts(login, screened):
    screening = Screening.objects.get()
    page = login(INVESTIGATOR).get(f"/admin/enrollment/screening/{screening.pk}/change/").content.decode()

    assert "Evaluate eligibility" in page
    assert "Sign eligibility" in page
    for code in [*(f"IN{n}" for n in range(1, 7)), *(f"EX{n}" for n in range(1, 22))]:
        assert f"<td>{code}</td>" in page
    monitor_page = login(MONITOR).get(f"/admin/enrollment/screening/{screening.pk}/change/").content.decode()
    assert "Sign eligibility" not in monitor_page
    assert "Evaluate eligibility</a>" not in monitor_page


def test_evaluate_button_stores_a_new_evaluation(login, screened):
    screening = Screening.objects.get()
    client = login(STUDY_COORDINATOR)

    response = client.post(act_url("screening", screening.pk, "evaluate"), SUBMIT)

    assert response.status_code == 302
    assert screening.evaluations.count() == 2
    assert screening.evaluations.latest("pk").evaluated_by == client.user


def test_sign_shows_the_meaning_and_refuses_a_wrong_password_on_its_field(login, screened, clock):
    clock(SIGNING_AT)
    screening = Screening.objects.get()
    client = login(INVESTIGATOR)
    url = act_url("screening", screening.pk, "sign")
    assert "eligibility confirmed" in client.get(url).content.decode()

    response = client.post(url, {"password": "wrong"})

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["password"]
    assert not EligibilitySignature.objects.exists()


def test_sign_with_the_password_stores_the_investigators_signature(login, screened, clock):
    clock(SIGNING_AT)
    screening = Screening.objects.get()
    client = login(INVESTIGATOR)

    response = client.post(act_url("screening", screening.pk, "sign"), {"password": PASSWORD})

    assert response.status_code == 302
    signature = EligibilitySignature.objects.get()
    assert (signature.signer, signature.meaning) == (client.user, "eligibility confirmed")
    assert signature.history.get().history_user == client.user


def test_a_coordinator_cannot_sign(login, screened):
    screening = Screening.objects.get()
    client = login(STUDY_COORDINATOR)
    assert "Sign eligibility" not in client.get(f"/admin/enrollment/screening/{screening.pk}/change/").content.decode()
    assert client.get(act_url("screening", screening.pk, "sign")).status_code == 403


# --- screen failure, enroll, withdraw ---------------------------------------------------------------------------
def test_screen_failure_needs_a_reason_and_is_recorded_with_it(login, screened):
    client = login(STUDY_COORDINATOR)
    assert "Screen failure" in subject_page(client, screened)
    url = act_url("subject", screened.pk, "screen_fail")

    refused = client.post(url, {"reason": ""})
    response = client.post(url, {"reason": "Platelets rose above the limit"})

    assert list(refused.context["form"].errors) == ["reason"]
    assert response.status_code == 302
    failure = ScreenFailure.objects.get()
    assert (failure.reason, failure.recorded_by) == ("Platelets rose above the limit", client.user)
    screened.refresh_from_db()
    assert screened.status == Subject.Status.SCREEN_FAILED
    row = screened.history.latest()
    assert (row.history_user, row.history_change_reason) == (
        client.user,
        "Screen failure: Platelets rose above the limit",
    )


def test_enroll_unsigned_screening_is_refused_with_the_services_message(login, screened):
    client = login(STUDY_COORDINATOR)
    assert 'class="act-button">Enroll</a>' not in subject_page(client, screened)  # offered once signed

    response = client.post(act_url("subject", screened.pk, "enroll"), SUBMIT)

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The eligibility of screening #1 of S-BJ01-001 is not signed by an investigator."
    ]
    screened.refresh_from_db()
    assert screened.status == Subject.Status.SCREENING


def test_the_enroll_button_appears_once_eligibility_is_signed(login, screened, clock):
    from enrollment import services

    clock(SIGNING_AT)
    investigator = login(INVESTIGATOR)
    services.eligibility_sign(
        actor=investigator.user, screening=selectors.screening_current(screened), password=PASSWORD
    )

    assert 'class="act-button">Enroll</a>' in subject_page(login(STUDY_COORDINATOR), screened)


def test_monitor_sees_no_subject_acts(login, screened):
    page = subject_page(login(MONITOR), screened)
    for label in ("Record consent", "Screening document", "Enroll", "Screen failure", "Withdraw / discontinue"):
        assert f'class="act-button">{label}</a>' not in page


# --- the subject page itself --------------------------------------------------------------------------------------
def test_subject_page_is_read_only_sequence_included(login, subject):
    client = login(STUDY_COORDINATOR)

    page = subject_page(client, subject)
    response = client.post(f"/admin/enrollment/subject/{subject.pk}/change/", {"sequence": "99"})

    assert 'name="sequence"' not in page
    assert response.status_code == 403
    subject.refresh_from_db()
    assert subject.sequence == 1
