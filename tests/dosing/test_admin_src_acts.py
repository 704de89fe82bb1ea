"""The SRC decision in the admin, through the API's services: a member records it beside the engine's
recommendation (Beijing times typed), each member present signs it with the password, two signatures apply it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from ctit_trial.audit import system_actor
from ctit_trial.signatures import WRONG_PASSWORD
from dosing import services
from dosing.models import DoseLevel, SrcDecision
from enrollment.roles import INVESTIGATOR, SRC_MEMBER
from tests.factories import PASSWORD, make_infusion, make_staff_user, make_subject

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 on 1 June in Beijing
ADD = "/admin/dosing/srcdecision/add/"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def one_subject_cleared(site_a):
    """Level 1 open; its titration subject completed the DLT window without DLT: path "1N"."""
    call_command("seed", verbosity=0)
    services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    make_infusion(subject=make_subject(site=site_a), level=1, started_at=NOW - timedelta(days=40))


@pytest.fixture
def members(site_a):
    return [make_staff_user(role_key=SRC_MEMBER, sites=[site_a], username=name) for name in ("src-a", "src-b")]


def login(client, user):
    client.logout()
    client.force_login(user)
    return client


def decision_body(members, **changes) -> dict:
    body = {
        "meeting_date": "2026-05-31",
        "data_cutoff_0": "2026-05-31",
        "data_cutoff_1": "08:00",
        "members_present": [member.pk for member in members],
        "decision": "escalate",
        "dose_level": "2",
        "rationale": "",
    }
    return body | changes


def sign_url(record) -> str:
    return f"/admin/dosing/srcdecision/{record.pk}/act/sign/"


def test_a_member_records_the_decision_and_two_signatures_open_level_2(client, one_subject_cleared, members):
    form = login(client, members[0]).get(ADD)
    recorded = client.post(ADD, decision_body(members))
    record = SrcDecision.objects.get()
    first = client.post(sign_url(record), {"password": PASSWORD})
    still_waiting = record.status
    signed_page = client.get(f"/admin/dosing/srcdecision/{record.pk}/change/").content.decode()
    page = login(client, members[1]).get(f"/admin/dosing/srcdecision/{record.pk}/change/").content.decode()
    sign_page = client.get(sign_url(record))
    second = client.post(sign_url(record), {"password": PASSWORD})

    assert "The engine recommends: escalate at level 2" in form.context["adminform"].form.fields["decision"].help_text
    assert recorded.status_code == 302
    assert (record.data_cutoff, record.recommended_action, record.decision) == (
        datetime(2026, 5, 31, 0, 0, tzinfo=UTC),
        "escalate",
        "escalate",
    )
    assert first.status_code == 302
    assert still_waiting == SrcDecision.Status.AWAITING_SIGNATURES
    assert sign_url(record) not in signed_page  # the first member has signed: no second button for them
    assert sign_url(record) in page
    assert (
        dict(sign_page.context["facts"])["Signed so far"]
        == "Test Src_Member (2026-06-01 10:00 (Asia/Shanghai, UTC+08:00))"
    )
    assert second.status_code == 302
    record.refresh_from_db()
    assert record.status == SrcDecision.Status.EFFECTIVE
    assert DoseLevel.objects.get(level=2).status == DoseLevel.Status.OPEN


def test_too_few_members_is_an_error_on_the_members_field_and_nothing_is_recorded(client, one_subject_cleared, members):
    response = login(client, members[0]).post(ADD, decision_body(members[:1]))

    errors = response.context["adminform"].form.errors
    assert list(errors) == ["members_present"]
    assert SrcDecision.objects.count() == 0


def test_a_wrong_password_signs_nothing(client, one_subject_cleared, members):
    login(client, members[0]).post(ADD, decision_body(members))
    record = SrcDecision.objects.get()

    response = client.post(sign_url(record), {"password": "wrong"})

    assert dict(response.context["form"].errors) == {"password": [WRONG_PASSWORD]}
    assert record.signatures.count() == 0


def test_site_staff_neither_record_nor_sign(client, one_subject_cleared, members, site_a):
    login(client, members[0]).post(ADD, decision_body(members))
    record = SrcDecision.objects.get()
    investigator = make_staff_user(role_key=INVESTIGATOR, sites=[site_a])

    add = login(client, investigator).post(ADD, decision_body(members))
    sign = client.post(sign_url(record), {"password": PASSWORD})

    assert (add.status_code, sign.status_code) == (403, 403)
    assert (SrcDecision.objects.count(), record.signatures.count()) == (1, 0)
