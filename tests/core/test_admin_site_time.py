"""The admin in site-local time: a Beijing coordinator types and reads Beijing times, labelled with the zone;
a record of a site in another zone is read and shown in that site's zone; clinical acts as buttons on a record."""

from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

from enrollment.roles import INVESTIGATOR, MONITOR, STUDY_COORDINATOR
from safety.models import AdverseEvent, Visit
from tests.factories import make_infusion, make_site, make_staff_user, make_subject, make_visit_schedule

pytestmark = pytest.mark.django_db
BEIJING = "Asia/Shanghai, UTC+08:00"
INFUSED_AT = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 09:00 on 1 June in Beijing: D0 = 1 June


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime(2026, 6, 11, 2, 0, tzinfo=UTC), tick=False)


@pytest.fixture
def beijing():
    call_command("seed", verbosity=0)
    return make_site(code="BJ", time_zone="Asia/Shanghai")


@pytest.fixture
def dosed(beijing):
    infusion = make_infusion(subject=make_subject(site=beijing), level=1, started_at=INFUSED_AT)
    make_visit_schedule(infusion=infusion)
    return infusion


def login(client, role: str, *sites):
    user = make_staff_user(role_key=role, sites=sites)
    client.force_login(user)
    client.user = user
    return client


def test_a_time_typed_in_beijing_is_stored_as_its_utc_instant_and_shown_back_in_beijing(client, dosed, beijing):
    # given an investigator of the Beijing site recording an SAE the site learnt of at 09:00 Beijing time
    login(client, INVESTIGATOR, beijing)
    body = {
        "subject": dosed.subject.pk,
        "other_term": "Nausea",
        "other_meddra_code": "10028813",
        "verbatim_term": "nausea",
        "onset_date": "2026-06-09",
        "grade": "3",
        "relatedness": "not_related",
        "expectedness": "unexpected",
        "outcome": "recovering",
        "serious": "on",
        "sae_hospitalization": "on",
        "awareness_at_0": "2026-06-10",
        "awareness_at_1": "09:00",
        "ongoing": "on",
        "action_taken": "none",
    }

    # when
    response = client.post("/admin/safety/adverseevent/add/", body)

    # then the instant is 01:00 UTC and the AE page shows it as 09:00 with the zone named
    assert response.status_code == 302, response.context["adminform"].form.errors
    ae = AdverseEvent.objects.get()
    assert ae.awareness_at == datetime(2026, 6, 10, 1, 0, tzinfo=UTC)
    page = client.get(f"/admin/safety/adverseevent/{ae.pk}/change/").content.decode()
    assert 'value="09:00"' in page
    assert f"Times: {BEIJING}" in page
    listing = client.get("/admin/safety/adverseevent/").content.decode()
    assert f"due 2026-06-11 09:00 ({BEIJING})" in listing


def test_a_record_of_a_berlin_site_reads_in_berlin_time_for_a_cross_site_monitor(client, beijing):
    # given a subject dosed at 09:00 Berlin summer time and a monitor of both sites (two zones)
    berlin = make_site(code="BER", time_zone="Europe/Berlin")
    infusion = make_infusion(
        subject=make_subject(site=berlin), level=1, started_at=datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
    )
    login(client, MONITOR, beijing, berlin)

    # when / then: its page works in Berlin time, the list (two zones) in labelled UTC
    page = client.get(f"/admin/dosing/infusion/{infusion.pk}/change/").content.decode()
    assert "Times: Europe/Berlin, UTC+02:00" in page
    assert "2026-06-01 09:00" in page
    assert f"<h2>{infusion.subject} infused 2026-06-01 09:00 (Europe/Berlin, UTC+02:00) at L1</h2>" in page
    listing = client.get("/admin/dosing/infusion/").content.decode()
    assert "Times: UTC, UTC+00:00" in listing
    assert "2026-06-01 07:00" in listing
    assert str(infusion) == f"{infusion.subject} infused 2026-06-01 07:00 UTC at L1"  # outside a page: UTC


def test_a_visit_is_marked_missed_from_its_page_through_the_service(client, dosed, beijing):
    # given the D7 window (6–8 June) closed without a visit
    visit = Visit.objects.get(subject=dosed.subject, definition__code="D7")
    login(client, STUDY_COORDINATOR, beijing)
    page = client.get(f"/admin/safety/visit/{visit.pk}/change/").content.decode()
    act_url = f"/admin/safety/visit/{visit.pk}/act/missed/"

    # when
    refused = client.post(act_url, {"reason": ""})
    done = client.post(act_url, {"reason": "Subject did not attend; phone unanswered"})

    # then
    assert f'href="{act_url}"' in page
    assert refused.status_code == 200
    assert refused.context["form"].errors == {"reason": ["This field is required."]}
    assert (done.status_code, done["Location"]) == (302, f"/admin/safety/visit/{visit.pk}/change/")
    visit.refresh_from_db()
    latest = visit.history.first()
    assert (visit.status, latest.history_user, latest.history_change_reason) == (
        Visit.Status.MISSED,
        client.user,
        "Subject did not attend; phone unanswered",
    )
    assert f'href="{act_url}"' not in client.get(f"/admin/safety/visit/{visit.pk}/change/").content.decode()
    d30 = Visit.objects.get(subject=dosed.subject, definition__code="D30")  # its window has not even opened
    assert "/act/missed/" not in client.get(f"/admin/safety/visit/{d30.pk}/change/").content.decode()


def test_the_missed_act_is_not_offered_to_a_monitor(client, dosed, beijing):
    visit = Visit.objects.get(subject=dosed.subject, definition__code="D7")
    login(client, MONITOR, beijing)

    page = client.get(f"/admin/safety/visit/{visit.pk}/change/").content.decode()

    assert "/act/missed/" not in page
    assert client.get(f"/admin/safety/visit/{visit.pk}/act/missed/").status_code == 403
    assert date(2026, 6, 11) > visit.window_latest
