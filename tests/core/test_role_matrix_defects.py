"""Direct tests of each reported defect: history scoping and read-only history, admin actions and their reasons,
scoped changelists, filters and searches, refusals as messages, and the role decisions (ADR 0011)."""

from datetime import date

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from ctit_trial.audit import save_audited, system_actor
from ctit_trial.errors import Conflict, PermissionDenied
from dosing.models import DoseLevel
from enrollment.models import SiteMembership, Subject, SubjectIdentity
from safety import services as safety_services
from safety.models import Visit
from tests.core.role_matrix_world import INFUSED_AT, PASSWORD, identity_of, module_world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from module_world(django_db_blocker)


def login(world, username: str) -> Client:
    client = Client()
    client.force_login(world.users[username])
    return client


def api(world, username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.users[username])
    return client


def history_urls(obj, model: str) -> tuple[str, str]:
    version = obj.history.order_by("history_id").first().history_id
    base = f"/admin/{model}/{obj.pk}/history/"
    return base, f"{base}{version}/"


# --- history views ignore site scoping -----------------------------------------------------------------------
@pytest.mark.parametrize("model", ["enrollment/subjectidentity", "enrollment/subject", "safety/adverseevent"])
def test_a_coordinator_cannot_open_another_sites_history(world, db, model):
    obj = {"enrollment/subjectidentity": "identity", "enrollment/subject": "subject", "safety/adverseevent": "ae"}
    history, version = history_urls(world.objects["B"][obj[model]], model)
    client = login(world, "coord_a")

    answers = [client.get(history), client.get(version)]

    assert [answer.status_code for answer in answers] == [404, 404]
    assert not any(value in answer.content.decode() for answer in answers for value in identity_of("B").values())


def test_the_own_sites_identity_history_is_shown_read_only(world, db):
    history, version = history_urls(world.objects["A"]["identity"], "enrollment/subjectidentity")
    client = login(world, "coord_a")

    listing, form = client.get(history), client.get(version)

    html = form.content.decode()
    assert (listing.status_code, form.status_code) == (200, 200)
    assert identity_of("A")["national_id"] in html
    assert 'name="national_id"' not in html  # shown as text, not as an input
    assert 'value="Revert"' not in html and 'name="_save"' not in html


# --- the history form writes ---------------------------------------------------------------------------------
def test_a_history_form_post_saves_nothing(world, db):
    membership = world.users["coord_b"].site_memberships.get()
    _, version = history_urls(membership, "enrollment/sitemembership")
    before = membership.history.count()
    payload = {"user": world.users["coord_a"].pk, "site": membership.site_id, "is_active": "on", "_save": "Save"}

    answer = login(world, "coord_a").post(version, payload)

    membership.refresh_from_db()
    assert answer.status_code == 405
    assert (membership.user, membership.history.count()) == (world.users["coord_b"], before)


def test_the_monitor_cannot_revert_a_dose_level_through_history(world, db):
    level = DoseLevel.objects.get(level=1)
    level.status = DoseLevel.Status.OPEN
    save_audited(level, actor=system_actor(), reason="test set-up: level 1 opened")
    oldest = level.history.order_by("history_id").first()

    answer = login(world, "monitor").post(f"/admin/dosing/doselevel/{level.pk}/history/{oldest.history_id}/", {})

    level.refresh_from_db()
    assert (answer.status_code, level.status) == (405, DoseLevel.Status.OPEN)


# --- admin actions without permission checks -----------------------------------------------------------------
def _open_level_one(client, **extra):
    first = DoseLevel.objects.get(level=1)
    data = {"action": "open_first_level", "_selected_action": [first.pk], **extra}
    return client.post("/admin/dosing/doselevel/", data)


@pytest.mark.parametrize("username", ["monitor", "coord_a", "inv_a", "dm_a", "sponsor"])
def test_only_the_src_may_open_level_one(world, db, username):
    answer = _open_level_one(login(world, username), apply="1", reason="Trial start")

    assert answer.status_code == 200  # the changelist again: the action is not offered to this role
    assert "Open level 1" not in answer.content.decode()
    assert DoseLevel.objects.get(level=1).status == DoseLevel.Status.NOT_OPEN


def test_opening_level_one_asks_for_a_reason_then_records_it(world, db):
    client = login(world, "src_a")

    asked = _open_level_one(client)
    empty = _open_level_one(client, apply="1", reason="  ")
    done = _open_level_one(client, apply="1", reason="SRC meeting 2026-03-01: trial start")

    level = DoseLevel.objects.get(level=1)
    assert (asked.status_code, empty.status_code, done.status_code) == (200, 200, 302)
    assert 'name="reason"' in asked.content.decode()
    assert "This field is required." in empty.content.decode()
    assert level.status == DoseLevel.Status.OPEN
    assert level.history.first().history_change_reason == "SRC meeting 2026-03-01: trial start"


# --- changelists, filters and searches scoped ----------------------------------------------------------------
@pytest.mark.parametrize("page", ["dosing/doseslot", "enrollment/sitemembership", "enrollment/subject"])
def test_changelists_show_only_the_users_sites(world, db, page):
    html = login(world, "coord_a").get(f"/admin/{page}/").content.decode()

    assert "DEMO2" not in html and "coord_b" not in html
    assert "BJ01" in html


def test_a_site_filter_lists_only_visible_sites(world, db):
    for_monitor = login(world, "monitor").get("/admin/safety/adverseevent/").content.decode()
    for_coordinator = login(world, "coord_b").get("/admin/safety/adverseevent/").content.decode()

    assert "?subject__site__id__exact=" in for_monitor and "BJ01" in for_monitor and "DEMO2" in for_monitor
    assert "BJ01" not in for_coordinator


def test_admin_search_results_are_scoped(world, db):
    request = RequestFactory().get("/admin/enrollment/subject/", {"q": "S-"})
    request.user = world.users["coord_a"]
    subject_admin = admin.site._registry[Subject]

    found, _ = subject_admin.get_search_results(request, Subject.objects.all(), "S-")

    assert list(found) == [world.objects["A"]["subject"]]


# --- refusals: a message or 404, never a 500 -----------------------------------------------------------------
def test_a_foreign_visit_change_page_is_not_found(world, db):
    visit = world.objects["B"]["visit"]

    answers = [login(world, "coord_a").get(f"/admin/safety/visit/{visit.pk}/change/")]
    answers.append(login(world, "coord_a").post(f"/admin/safety/visit/{visit.pk}/change/", {"visit_date": "x"}))

    assert [answer.status_code for answer in answers] == [404, 404]


def test_adding_an_identity_for_a_foreign_subject_is_a_form_error(world, db):
    subject = world.objects["B"]["subject"]
    payload = {"subject": subject.pk, "full_name": "X", "national_id": "", "phone": "", "email": ""}

    answer = login(world, "coord_a").post("/admin/enrollment/subjectidentity/add/", payload)

    assert answer.status_code == 200
    assert "Select a valid choice." in answer.content.decode()
    assert SubjectIdentity.objects.filter(subject=subject).get().full_name == identity_of("B")["full_name"]


@pytest.mark.parametrize("page", ["dosing/infusionplan", "dosing/infusion"])
def test_service_add_pages_render_and_refuse_with_messages(world, db, page):
    client = login(world, "coord_a")

    form = client.get(f"/admin/{page}/add/")
    refused = client.post(f"/admin/{page}/add/", {"subject": world.objects["A"]["subject"].pk})

    assert (form.status_code, refused.status_code) == (200, 200)
    assert "Select a valid choice." in refused.content.decode()  # the dosed subject is not enrolled


# --- roles beyond their documented scope ---------------------------------------------------------------------
def test_the_data_manager_cannot_record_or_miss_visits_or_close_out(world, db):
    visit, subject = world.objects["A"]["visit"], world.objects["A"]["subject"]
    client = api(world, "dm_a")
    body = {"visit_date": "2026-03-12", "reason": "x"}

    answers = [
        client.post(f"/api/v1/visits/{visit.pk}/record/", body, format="json").status_code,
        client.post(f"/api/v1/visits/{visit.pk}/missed/", {"reason": "x"}, format="json").status_code,
        client.post(f"/api/v1/subjects/{subject.pk}/close-out/", {}, format="json").status_code,
    ]

    assert answers == [403, 403, 403]
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.PLANNED


def test_the_visit_services_refuse_the_data_manager_too(world, db):
    visit, dm = world.objects["A"]["visit"], world.users["dm_a"]

    with pytest.raises(PermissionDenied, match="Your role does not allow you to record visits."):
        safety_services.visit_record(
            actor=dm, visit=visit, visit_date=date(2026, 3, 12), platelets=None, ae_review_done=True
        )
    with pytest.raises(PermissionDenied, match="Your role does not allow you to mark visits missed."):
        safety_services.visit_mark_missed(actor=dm, visit=visit, reason="Not seen")
    with pytest.raises(PermissionDenied, match="Your role does not allow you to close out a subject's follow-up."):
        safety_services.subject_close_out(actor=dm, subject=world.objects["A"]["subject"])


def test_dlt_candidates_are_adjudicated_by_the_src_not_the_investigator(world, db):
    ae = world.objects["A"]["ae"]
    url = f"/api/v1/adverse-events/{ae.pk}/adjudicate/"
    payload = {"decision": "confirm", "reason": "Grade 3 nausea, related", "password": PASSWORD}

    by_investigator = api(world, "inv_a").post(url, payload, format="json")
    by_src = api(world, "src_a").post(url, payload, format="json")

    assert by_investigator.status_code == 403
    assert (by_src.status_code, by_src.json()["dlt"]["state"]) == (200, "confirmed")


# --- visits after close-out ----------------------------------------------------------------------------------
def _closed_out(world) -> Visit:
    subject = world.objects["A"]["subject"]
    subject.status, subject.enrolled_at = Subject.Status.COMPLETED, INFUSED_AT
    save_audited(subject, actor=system_actor(), reason="test set-up: follow-up closed out")
    return Visit.objects.get(pk=world.objects["A"]["visit"].pk)


def test_no_visit_is_recorded_after_close_out(world, db):
    visit = _closed_out(world)
    message = f"The follow-up of {visit.subject} is closed out: its visits can no longer be changed."

    with pytest.raises(Conflict, match=message):
        safety_services.visit_record(
            actor=world.users["coord_a"], visit=visit, visit_date=date(2026, 3, 12), platelets=None, ae_review_done=True
        )
    answer = api(world, "coord_a").post(
        f"/api/v1/visits/{visit.pk}/record/", {"visit_date": "2026-03-12"}, format="json"
    )

    assert (answer.status_code, answer.json()["detail"]) == (409, message)
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.PLANNED


def test_the_admin_says_why_a_visit_cannot_be_recorded_after_close_out(world, db):
    visit = _closed_out(world)
    payload = {"visit_date": "2026-03-12", "platelets": "", "ae_review_done": "on", "reason_for_change": ""}

    answer = login(world, "coord_a").post(f"/admin/safety/visit/{visit.pk}/change/", payload, follow=True)

    assert answer.status_code == 200
    assert f"The follow-up of {visit.subject} is closed out" in answer.content.decode()
    assert Visit.objects.get(pk=visit.pk).status == Visit.Status.PLANNED


def test_memberships_are_granted_by_superusers_only(world, db):
    answer = login(world, "coord_a").get("/admin/enrollment/sitemembership/add/")

    assert answer.status_code == 403
    assert SiteMembership.objects.filter(user=world.users["coord_a"]).count() == 1
