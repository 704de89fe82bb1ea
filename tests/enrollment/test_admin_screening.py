"""Staff admin: subject filters and inlines, identifiers behind their permission, read-only screening records
with their signature status, and the actions that call services."""

import pytest

from ctit_trial.audit import system_actor
from dosing import services as dosing_services
from enrollment import selectors, services
from enrollment.models import EligibilityEvaluation, Screening, SubjectIdentity
from enrollment.roles import INVESTIGATOR, MONITOR, STUDY_COORDINATOR
from tests.enrollment.conftest import ENROLLING_AT, SIGNING_AT
from tests.factories import PASSWORD, make_staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, trial):
    """staff_client(role) -> the test client logged in as a new staff user of that role at BJ01."""

    def login(role: str):
        user = make_staff_user(role_key=role, sites=[] if role == MONITOR else [trial])
        client.force_login(user)
        client.user = user
        return client

    return login


@pytest.fixture
def identified(screened):
    coordinator = make_staff_user(role_key=STUDY_COORDINATOR, sites=[screened.site])
    services.identity_save(actor=coordinator, subject=screened, full_name="Li Na", national_id="110101197005011234")
    return screened


def test_subject_list_filters_by_site_and_status_and_searches_study_numbers(staff_client, screened):
    client = staff_client(STUDY_COORDINATOR)

    found = client.get(f"/admin/enrollment/subject/?site__id__exact={screened.site_id}&status__exact=screening&q=001")
    none = client.get("/admin/enrollment/subject/?status__exact=enrolled")

    assert found.status_code == 200
    assert "S-BJ01-001" in found.content.decode()
    assert "S-BJ01-001" not in none.content.decode()


def test_subject_page_shows_identifiers_only_to_holders(staff_client, identified):
    url = f"/admin/enrollment/subject/{identified.pk}/change/"

    coordinator_page = staff_client(STUDY_COORDINATOR).get(url).content.decode()
    monitor_page = staff_client(MONITOR).get(url)

    assert "Li Na" in coordinator_page
    assert "Eligible" in coordinator_page  # the screening inline with its current outcome
    assert monitor_page.status_code == 200
    assert "Li Na" not in monitor_page.content.decode()
    assert "110101197005011234" not in monitor_page.content.decode()


def test_identity_admin_is_closed_to_the_monitor(staff_client, identified):
    assert staff_client(MONITOR).get("/admin/enrollment/subjectidentity/").status_code == 403
    assert staff_client(INVESTIGATOR).get("/admin/enrollment/subjectidentity/").status_code == 200


def test_identity_admin_edit_needs_a_reason_and_goes_through_the_service(staff_client, identified):
    client = staff_client(STUDY_COORDINATOR)
    identity = SubjectIdentity.objects.get()
    url = f"/admin/enrollment/subjectidentity/{identity.pk}/change/"
    form = {"full_name": "Li Na", "national_id": "110101197005011234", "phone": "+86 10 5555 0000", "email": ""}

    refused = client.post(url, form)
    accepted = client.post(url, {**form, "reason_for_change": "Phone given at visit"})

    assert "A reason for change is required when editing existing data." in refused.content.decode()
    assert accepted.status_code == 302
    latest = SubjectIdentity.objects.get().history.first()
    assert (latest.phone, latest.history_user, latest.history_change_reason) == (
        "+86 10 5555 0000",
        client.user,
        "Phone given at visit",
    )


def test_screening_is_read_only_and_shows_document_and_signature(staff_client, screened):
    client = staff_client(INVESTIGATOR)
    screening = Screening.objects.get()

    page = client.get(f"/admin/enrollment/screening/{screening.pk}/change/").content.decode()

    assert client.get("/admin/enrollment/screening/add/").status_code == 403
    assert "&quot;consent_signed_on&quot;: &quot;2026-03-02&quot;" in page
    assert "unsigned" in page


def test_evaluation_page_lists_every_verdict(staff_client, screened):
    evaluation = EligibilityEvaluation.objects.get()

    page = staff_client(MONITOR).get(f"/admin/enrollment/eligibilityevaluation/{evaluation.pk}/change/")

    assert page.status_code == 200
    assert "Age 55 on consent date 2026-03-02 is within 18–75." in page.content.decode()


def test_evaluate_again_action_stores_a_new_evaluation(staff_client, screened):
    client = staff_client(INVESTIGATOR)
    screening = Screening.objects.get()

    response = client.post(
        "/admin/enrollment/screening/", {"action": "evaluate_again", "_selected_action": [screening.pk]}, follow=True
    )

    assert f"{screening}: Eligible." in response.content.decode()
    assert screening.evaluations.count() == 2
    assert screening.evaluations.last().history.first().history_change_reason == "Eligibility evaluated again"


def test_monitor_has_no_evaluate_action(staff_client, screened):
    client = staff_client(MONITOR)
    action = {"action": "evaluate_again", "_selected_action": [Screening.objects.get().pk]}

    client.post("/admin/enrollment/screening/", action)

    assert EligibilityEvaluation.objects.count() == 1


def test_enroll_action_calls_the_service_and_reports_refusals(staff_client, screened, clock):
    dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    clock(ENROLLING_AT)  # before logging in: sessions expire after 8 hours of travelled time
    client = staff_client(INVESTIGATOR)
    action = {"action": "enroll", "_selected_action": [screened.pk]}

    refused = client.post("/admin/enrollment/subject/", action, follow=True).content.decode()
    services.eligibility_sign(actor=client.user, screening=selectors.screening_current(screened), password=PASSWORD)
    enrolled = client.post("/admin/enrollment/subject/", action, follow=True).content.decode()

    assert "S-BJ01-001: The eligibility of screening #1 of S-BJ01-001 is not signed by an investigator." in refused
    assert "S-BJ01-001 enrolled at dose level 1 (L1)." in enrolled
    screened.refresh_from_db()
    assert screened.status == "enrolled"


def test_an_enrolled_subject_s_screening_is_not_evaluated_again(staff_client, screened, clock):
    dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    clock(ENROLLING_AT)
    client = staff_client(INVESTIGATOR)
    services.eligibility_sign(actor=client.user, screening=selectors.screening_current(screened), password=PASSWORD)
    client.post("/admin/enrollment/subject/", {"action": "enroll", "_selected_action": [screened.pk]})
    screening = Screening.objects.get()

    page = client.get(f"/admin/enrollment/screening/{screening.pk}/change/").content.decode()
    act = client.get(f"/admin/enrollment/screening/{screening.pk}/act/evaluate/", follow=True).content.decode()
    action = client.post(
        "/admin/enrollment/screening/", {"action": "evaluate_again", "_selected_action": [screening.pk]}, follow=True
    ).content.decode()

    assert f"/admin/enrollment/screening/{screening.pk}/act/evaluate/" not in page
    assert f"Evaluate eligibility: not possible for {screening} now." in act
    assert (
        f"{screening}: S-BJ01-001 has status &#x27;enrolled&#x27;: eligibility is evaluated again only during "
        "screening (a correction of the screening data is evaluated with it)."
    ) in action
    assert screening.evaluations.count() == 1


def test_signature_admin_shows_validity(staff_client, screened, clock):
    clock(SIGNING_AT)
    client = staff_client(INVESTIGATOR)
    services.eligibility_sign(actor=client.user, screening=selectors.screening_current(screened), password=PASSWORD)

    page = client.get("/admin/enrollment/eligibilitysignature/").content.decode()

    assert "Test Investigator" in page
    assert 'alt="True"' in page
