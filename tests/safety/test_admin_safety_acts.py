"""The safety acts in the admin, through the API's services: DLT adjudication and the SAE report are electronic
signatures (password re-entered), close-out completes the follow-up, a reminder is resent; each only for its roles."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.management import call_command

from ctit_trial.audit import save_audited, system_actor
from ctit_trial.signatures import WRONG_PASSWORD
from enrollment.models import Subject
from enrollment.roles import INVESTIGATOR, MONITOR, SRC_MEMBER, STUDY_COORDINATOR
from safety import selectors, services
from safety.models import DltAdjudication, Notification, SaeReport, Visit
from tests.factories import (
    PASSWORD,
    make_adverse_event,
    make_infusion,
    make_site,
    make_staff_user,
    make_subject,
    make_visit_schedule,
)

pytestmark = pytest.mark.django_db
INFUSED_AT = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 09:00 on 1 June in Beijing: D0 = 1 June
AWARE_AT = datetime(2026, 6, 9, 1, 0, tzinfo=UTC)  # 09:00 on 9 June in Beijing
NAUSEA = {"term": None, "other_term": "Nausea", "other_meddra_code": "10028813", "verbatim_term": "nausea"}


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
    subject = infusion.subject
    subject.status = Subject.Status.DOSED  # the factory's infusion stands in for the dosing-day service
    subject.enrolled_at = INFUSED_AT - timedelta(days=3)
    save_audited(subject, actor=system_actor(), reason="test set-up: dosed")
    return subject


@pytest.fixture
def candidate(dosed):
    return make_adverse_event(subject=dosed, onset_date=date(2026, 6, 5), grade=3, relatedness="possibly", **NAUSEA)


@pytest.fixture
def sae(dosed):
    return make_adverse_event(
        subject=dosed,
        term="epistaxis",
        onset_date=date(2026, 6, 9),
        grade=3,
        relatedness="not_related",
        serious=True,
        sae_hospitalization=True,
        awareness_at=AWARE_AT,
    )


def login(client, role: str, *sites):
    user = make_staff_user(role_key=role, sites=sites)
    client.force_login(user)
    client.user = user
    return client


def act_url(ae, name: str) -> str:
    return f"/admin/safety/adverseevent/{ae.pk}/act/{name}/"


def form_errors(response) -> dict:
    return dict(response.context["form"].errors)


# --- DLT adjudication by an SRC member of the subject's site


def test_an_src_member_adjudicates_a_candidate_from_the_ae_page_with_a_signature(client, candidate, beijing):
    login(client, SRC_MEMBER, beijing)

    page = client.get(f"/admin/safety/adverseevent/{candidate.pk}/change/").content.decode()
    form = client.get(act_url(candidate, "adjudicate"))
    signed = client.post(
        act_url(candidate, "adjudicate"), {"decision": "confirm", "reason": "Related grade 3", "password": PASSWORD}
    )

    assert act_url(candidate, "adjudicate") in page
    assert form.status_code == 200
    assert dict(form.context["facts"])["Event"] == "nausea — CTCAE v5.0: Nausea, grade 3"
    assert "reason_for_change" not in form.context["form"].fields
    assert (signed.status_code, signed["Location"]) == (302, f"/admin/safety/adverseevent/{candidate.pk}/change/")
    adjudication = DltAdjudication.objects.get()
    assert (adjudication.decision, adjudication.signer, adjudication.meaning) == (
        "confirm",
        client.user,
        "DLT confirmed",
    )
    assert selectors.adjudication_state(candidate).value == "confirmed"


def test_a_wrong_password_is_an_error_on_the_password_field_and_nothing_is_signed(client, candidate, beijing):
    login(client, SRC_MEMBER, beijing)

    response = client.post(
        act_url(candidate, "adjudicate"), {"decision": "confirm", "reason": "Related grade 3", "password": "nope"}
    )

    assert response.status_code == 200
    assert form_errors(response) == {"password": [WRONG_PASSWORD]}
    assert DltAdjudication.objects.count() == 0


def test_a_readjudication_asks_for_the_reason_for_the_new_one(client, candidate, beijing):
    login(client, SRC_MEMBER, beijing)
    services.dlt_adjudicate(actor=client.user, ae=candidate, decision="confirm", reason="Related", password=PASSWORD)

    missing = client.post(
        act_url(candidate, "adjudicate"), {"decision": "reject", "reason": "Unrelated", "password": PASSWORD}
    )
    given = client.post(
        act_url(candidate, "adjudicate"),
        {"decision": "reject", "reason": "Unrelated", "reason_for_change": "Pathology review", "password": PASSWORD},
    )

    assert list(form_errors(missing)) == ["reason_for_change"]
    assert given.status_code == 302
    assert list(DltAdjudication.objects.order_by("pk").values_list("decision", "reason_for_change")) == [
        ("confirm", ""),
        ("reject", "Pathology review"),
    ]


def test_site_staff_cannot_adjudicate(client, candidate, beijing):
    login(client, INVESTIGATOR, beijing)

    page = client.get(f"/admin/safety/adverseevent/{candidate.pk}/change/").content.decode()
    response = client.post(
        act_url(candidate, "adjudicate"), {"decision": "confirm", "reason": "x", "password": PASSWORD}
    )

    assert act_url(candidate, "adjudicate") not in page
    assert response.status_code == 403
    assert DltAdjudication.objects.count() == 0


# --- the SAE report to the sponsor, signed by the site's investigator, in Beijing time


def test_the_investigator_signs_the_sae_report_at_a_beijing_time(client, sae, beijing):
    login(client, INVESTIGATOR, beijing)

    page = client.get(f"/admin/safety/adverseevent/{sae.pk}/change/").content.decode()
    form = client.get(act_url(sae, "sae_report"))
    signed = client.post(
        act_url(sae, "sae_report"), {"reported_at_0": "2026-06-09", "reported_at_1": "20:30", "password": PASSWORD}
    )

    assert act_url(sae, "sae_report") in page
    assert dict(form.context["facts"])["Report due by"] == "2026-06-10 09:00 (Asia/Shanghai, UTC+08:00) (overdue)"
    assert signed.status_code == 302
    report = SaeReport.objects.get()
    assert (report.reported_at, report.signer, report.meaning) == (
        datetime(2026, 6, 9, 12, 30, tzinfo=UTC),
        client.user,
        "reported to sponsor",
    )
    assert act_url(sae, "sae_report") not in client.get(f"/admin/safety/adverseevent/{sae.pk}/change/").content.decode()


def test_a_report_before_awareness_is_refused_on_its_field_in_beijing_time(client, sae, beijing):
    login(client, INVESTIGATOR, beijing)

    response = client.post(
        act_url(sae, "sae_report"), {"reported_at_0": "2026-06-09", "reported_at_1": "08:00", "password": PASSWORD}
    )

    assert form_errors(response) == {
        "reported_at": [
            "The report cannot precede awareness of the SAE, at 2026-06-09 09:00 (Asia/Shanghai, UTC+08:00)."
        ]
    }
    assert SaeReport.objects.count() == 0


@pytest.mark.parametrize("role", [STUDY_COORDINATOR, MONITOR])
def test_roles_without_the_act_are_refused_the_sae_report(client, sae, beijing, role):
    login(client, role, beijing)

    response = client.post(
        act_url(sae, "sae_report"), {"reported_at_0": "2026-06-09", "reported_at_1": "20:30", "password": PASSWORD}
    )

    assert response.status_code == 403
    assert SaeReport.objects.count() == 0


def test_another_sites_investigator_gets_404(client, sae):
    login(client, INVESTIGATOR, make_site(code="SH", time_zone="Asia/Shanghai"))

    response = client.get(act_url(sae, "sae_report"))

    assert response.status_code == 404


# --- close-out of the follow-up, on the subject's page


def test_close_out_is_offered_once_the_last_visit_is_recorded(client, dosed, beijing):
    login(client, STUDY_COORDINATOR, beijing)
    close_out = f"/admin/enrollment/subject/{dosed.pk}/act/close_out/"
    before = client.get(f"/admin/enrollment/subject/{dosed.pk}/change/").content.decode()
    for visit in Visit.objects.filter(subject=dosed).order_by("definition__target_day"):
        with time_machine.travel(datetime.combine(visit.target_date, time(4), tzinfo=UTC), tick=False):
            services.visit_record(
                actor=client.user, visit=visit, visit_date=visit.target_date, platelets=None, ae_review_done=True
            )

    after = client.get(f"/admin/enrollment/subject/{dosed.pk}/change/").content.decode()
    unconfirmed = client.post(close_out, {})
    closed = client.post(close_out, {"confirm": "on"})

    assert close_out not in before
    assert close_out in after
    assert list(form_errors(unconfirmed)) == ["confirm"]
    assert closed.status_code == 302
    dosed.refresh_from_db()
    assert dosed.status == Subject.Status.COMPLETED


def test_close_out_before_the_last_visit_goes_back_with_a_message(client, dosed, beijing):
    login(client, STUDY_COORDINATOR, beijing)

    response = client.post(f"/admin/enrollment/subject/{dosed.pk}/act/close_out/", {"confirm": "on"}, follow=True)

    assert [str(m) for m in response.context["messages"]] == [f"Close out follow-up: not possible for {dosed} now."]
    dosed.refresh_from_db()
    assert dosed.status == Subject.Status.DOSED


# --- resending a reminder, on the message's page


@pytest.fixture
def failed_message(dosed, beijing):
    recipient = make_staff_user(role_key=INVESTIGATOR, sites=[beijing], username="inv-bj")
    return Notification.objects.create(
        recipient=recipient,
        recipient_email="inv-bj@example.org",
        kind="visit_target_day",
        subject=dosed,
        site=beijing,
        object_ref=f"subject:{dosed.pk}",
        occasion="test",
        due_at=datetime(2026, 6, 10, 0, 0, tzinfo=UTC),
        status=Notification.Status.FAILED,
        created_at=datetime(2026, 6, 10, 0, 0, tzinfo=UTC),
    )


def test_a_failed_message_is_resent_from_its_page_with_a_reason(client, failed_message, beijing):
    login(client, STUDY_COORDINATOR, beijing)
    resend = f"/admin/safety/notification/{failed_message.pk}/act/resend/"

    page = client.get(f"/admin/safety/notification/{failed_message.pk}/change/").content.decode()
    form = client.get(resend)
    response = client.post(resend, {"reason": "Mailbox was full"})

    assert resend in page
    assert "historylink" not in page  # reminder emails keep no edit history: the row shows its delivery
    assert client.get(f"/admin/safety/notification/{failed_message.pk}/history/").status_code == 404
    assert dict(form.context["facts"])["Due"] == "2026-06-10 08:00 (Asia/Shanghai, UTC+08:00)"
    assert response.status_code == 302
    new = Notification.objects.exclude(pk=failed_message.pk).get()
    assert (new.resend_of, new.request_reason, new.requested_by) == (failed_message, "Mailbox was full", client.user)


def test_a_monitor_cannot_resend(client, failed_message, beijing):
    login(client, MONITOR, beijing)

    response = client.post(f"/admin/safety/notification/{failed_message.pk}/act/resend/", {"reason": "x"})

    assert response.status_code == 403
    assert "<h1>Not allowed</h1>" in response.content.decode()
    assert """<a href="/admin/">Back to today's work</a>""" in response.content.decode()
    assert Notification.objects.count() == 1
