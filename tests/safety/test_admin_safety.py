"""Safety admin: AE filters and computed statuses, edits through the services with a reason, visits recorded."""

from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

from ctit_trial.audit import REASON_REQUIRED
from enrollment.roles import INVESTIGATOR, MONITOR, SRC_MEMBER
from safety import selectors, services
from safety.models import AdverseEvent, Visit
from tests.factories import (
    PASSWORD,
    make_adverse_event,
    make_infusion,
    make_site_member,
    make_staff_user,
    make_subject,
    make_visit_schedule,
)

pytestmark = pytest.mark.django_db
INFUSED_AT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # D0 = 2 June in Shanghai
NAUSEA = {"term": None, "other_term": "Nausea", "other_meddra_code": "10028813"}


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime(2026, 6, 11, 2, 0, tzinfo=UTC), tick=False)


@pytest.fixture
def dosed(site_a):
    call_command("seed", verbosity=0)
    return make_infusion(subject=make_subject(site=site_a), level=1, started_at=INFUSED_AT)


@pytest.fixture
def staff_client(client, dosed):
    def login(role: str, *sites):
        user = make_staff_user(role_key=role, sites=sites)
        client.force_login(user)
        client.user = user
        return client

    return login


@pytest.fixture
def events(dosed):
    subject = dosed.subject
    candidate = make_adverse_event(subject=subject, onset_date=date(2026, 6, 5), grade=3, **NAUSEA)
    mild = make_adverse_event(subject=subject, onset_date=date(2026, 6, 6), grade=1, relatedness="unlikely")
    serious = make_adverse_event(
        subject=subject,
        term="epistaxis",
        onset_date=date(2026, 6, 9),
        grade=3,
        relatedness="not_related",
        serious=True,
        sae_hospitalization=True,
        awareness_at=datetime(2026, 6, 9, 1, 0, tzinfo=UTC),
    )
    return candidate, mild, serious


def test_ae_list_shows_adjudication_and_sae_clock_and_filters(staff_client, events, site_a):
    candidate, mild, serious = events
    services.dlt_adjudicate(
        actor=make_site_member(site=site_a, role_key=SRC_MEMBER),
        ae=candidate,
        decision="confirm",
        reason="Related grade 3 nausea",
        password=PASSWORD,
    )
    client = staff_client(INVESTIGATOR, site_a)

    page = client.get("/admin/safety/adverseevent/").content.decode()
    candidates = client.get("/admin/safety/adverseevent/?dlt_assessment__is_candidate__exact=1").content.decode()
    confirmed = client.get("/admin/safety/adverseevent/?adjudication=confirmed").content.decode()
    serious_only = client.get("/admin/safety/adverseevent/?serious__exact=1&grade=3").content.decode()
    unlikely = client.get("/admin/safety/adverseevent/?relatedness__exact=unlikely").content.decode()

    assert "overdue (due 2026-06-10 09:00 (Asia/Shanghai, UTC+08:00))" in page
    assert "confirmed" in page
    assert ("Nausea" in candidates, "Epistaxis" in candidates) == (True, False)
    assert ("Nausea" in confirmed, "Fever" in confirmed) == (True, False)
    assert ("Epistaxis" in serious_only, "Nausea" in serious_only) == (True, False)
    assert ("Fever" in unlikely, "Nausea" in unlikely) == (True, False)


def test_ae_edit_in_admin_needs_a_reason_and_goes_through_the_service(staff_client, events, site_a):
    _, mild, _ = events
    client = staff_client(INVESTIGATOR, site_a)
    url = f"/admin/safety/adverseevent/{mild.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data |= {"ctcae_term": mild.ctcae_term_id, "grade": 2}

    refused = client.post(url, data)
    invalid = client.post(url, {**data, "grade": 5, "reason_for_change": "Worse"})
    accepted = client.post(url, {**data, "reason_for_change": "Grade re-assessed at D9"})

    assert REASON_REQUIRED in refused.content.decode()
    assert "A grade 5 AE has the outcome &#x27;fatal&#x27;." in invalid.content.decode()
    assert accepted.status_code == 302
    latest = AdverseEvent.objects.get(pk=mild.pk).history.first()
    assert (latest.grade, latest.history_user, latest.history_change_reason) == (
        2,
        client.user,
        "Grade re-assessed at D9",
    )


def test_another_sites_aes_are_not_listed(staff_client, events, site_b):
    client = staff_client(INVESTIGATOR, site_b)

    assert "Nausea" not in client.get("/admin/safety/adverseevent/").content.decode()
    assert client.get(f"/admin/safety/adverseevent/{events[0].pk}/change/").status_code == 404


def test_visit_recorded_in_admin_without_reason_then_corrected_with_one(staff_client, dosed, site_a):
    make_visit_schedule(infusion=dosed)
    visit = Visit.objects.get(definition__code="D7")
    client = staff_client(INVESTIGATOR, site_a)
    url = f"/admin/safety/visit/{visit.pk}/change/"

    first = client.post(url, {"visit_date": "2026-06-11", "platelets": "82", "ae_review_done": "on"})
    uncorrected = client.post(url, {"visit_date": "2026-06-10", "platelets": "82", "ae_review_done": "on"})
    corrected = client.post(
        url, {"visit_date": "2026-06-10", "platelets": "82", "ae_review_done": "on", "reason_for_change": "Typo"}
    )

    assert first.status_code == corrected.status_code == 302
    assert REASON_REQUIRED in uncorrected.content.decode()
    visit = selectors.visit_get_visible(client.user, pk=visit.pk)
    assert (visit.visit_date, visit.deviation, visit.history.first().history_change_reason) == (
        date(2026, 6, 10),
        False,
        "Typo",
    )
    assert visit.history.all()[1].deviation is True  # the first recording was out of window


def test_the_monitor_reads_safety_admin_but_cannot_edit(staff_client, events):
    client = staff_client(MONITOR)

    assert client.get("/admin/safety/adverseevent/").status_code == 200
    assert client.get("/admin/safety/dltassessment/").status_code == 200
    assert client.get("/admin/safety/adverseevent/add/").status_code == 403


def test_ae_added_in_admin_is_recorded_by_the_service(staff_client, dosed, site_a):
    client = staff_client(INVESTIGATOR, site_a)
    form = {
        "subject": dosed.subject_id,
        "verbatim_term": "Headache",
        "other_term": "Headache",
        "other_meddra_code": "10019211",
        "grade": "2",
        "onset_date": "2026-06-04",
        "ongoing": "on",
        "relatedness": "unlikely",
        "expectedness": "expected",
        "action_taken": "not_applicable",
        "outcome": "recovering",
    }

    missing_code = client.post("/admin/safety/adverseevent/add/", {**form, "other_meddra_code": ""})
    added = client.post("/admin/safety/adverseevent/add/", form)

    assert (
        "Give the CTCAE term, or another term (other_term) with its MedDRA code." not in missing_code.content.decode()
    )
    assert "A MedDRA code is 8 digits." in missing_code.content.decode()
    assert added.status_code == 302
    ae = AdverseEvent.objects.get()
    assert (ae.term_name, ae.recorded_by, ae.ctcae_version, ae.dlt_assessment.is_candidate) == (
        "Headache",
        client.user,
        "5.0",
        False,
    )
    assert ae.history.first().history_change_reason == "Adverse event recorded"


def test_a_deviation_reads_as_words_in_the_visit_list_and_page(staff_client, dosed, site_a):
    make_visit_schedule(infusion=dosed)
    visit = Visit.objects.get(definition__code="D7")
    client = staff_client(INVESTIGATOR, site_a)
    client.post(f"/admin/safety/visit/{visit.pk}/change/", {"visit_date": "2026-06-11", "ae_review_done": "on"})
    visit.refresh_from_db()

    listing = client.get("/admin/safety/visit/?definition__code=D7").content.decode()
    page = client.get(f"/admin/safety/visit/{visit.pk}/change/").content.decode()

    assert visit.deviation is True
    assert f"Deviation: {visit.deviation_reason}" in listing
    assert f"Deviation: {visit.deviation_reason}" in page
    assert "icon-yes.svg" not in listing
