"""SRC decision signatures are bound to their decision, meaning, content and the server key; members present audited."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from ctit_trial.audit import system_actor
from dosing import services
from dosing.models import SrcDecision
from dosing.services.src import decision_content, valid_signatures
from enrollment.roles import SRC_MEMBER
from tests.factories import PASSWORD, make_infusion, make_staff_user, make_subject
from tests.signature_forgery import copy_row, edit_row, forged_macs

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def members(site_a):
    """Level 1 open, its subject cleared ("1N"), and three SRC members."""
    call_command("seed", verbosity=0)
    services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    make_infusion(subject=make_subject(site=site_a), level=1, started_at=NOW - timedelta(days=40))
    return [make_staff_user(role_key=SRC_MEMBER, sites=[site_a], username=f"src-{n}") for n in "abc"]


@pytest.fixture
def decision(members):
    return services.src_decision_record(
        actor=members[0],
        meeting_date=date(2026, 5, 31),
        data_cutoff=NOW - timedelta(days=1),
        members=members[:2],
        decision="escalate",
        dose_level=2,
    )


@pytest.fixture
def signature(decision, members):
    services.src_decision_sign(actor=members[0], decision=decision, password=PASSWORD)
    return decision.signatures.get()


def still_valid(decision) -> bool:
    return bool(valid_signatures(SrcDecision.objects.get(pk=decision.pk)))


def test_a_signature_copied_to_an_identical_decision_does_not_validate(signature, decision):
    twin = SrcDecision.objects.get(pk=decision.pk)
    twin.pk = None
    twin.save()
    twin.members_present.set(decision.members_present.all())

    copy_row(signature, decision_id=twin.pk)

    assert decision_content(twin) == decision_content(decision)
    assert (still_valid(decision), still_valid(twin)) == (True, False)


def test_a_changed_meaning_invalidates_the_signature(signature, decision):
    edit_row(signature, meaning="reviewed")

    assert still_valid(decision) is False


def test_changed_content_invalidates_the_signature(signature, decision):
    SrcDecision.objects.filter(pk=decision.pk).update(rationale="Added after signing")

    assert still_valid(decision) is False


def test_a_mac_computed_without_the_server_key_does_not_validate(signature, decision):
    for forged in forged_macs(signature, record=decision, content=decision_content(decision)):
        edit_row(signature, content_digest=forged)
        assert still_valid(decision) is False


def test_the_meaning_is_the_servers_and_a_client_value_is_refused(api_client_for, decision, site_a, members):
    client = api_client_for(SRC_MEMBER, site_a, username="src-d")
    decision.members_present.add(client.user)
    url = f"/api/v1/src-decisions/{decision.pk}/sign/"

    refused = client.post(url, {"password": PASSWORD, "meaning": "approved with changes"}, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"meaning": ['"approved with changes" is not a valid choice.']}
    assert not decision.signatures.exists()


def test_the_members_present_history_row_has_the_user_and_the_reason(decision, members):
    created, members_set = decision.history.order_by("history_id")

    assert (created.history_user, created.history_change_reason) == (members[0], "SRC decision recorded")
    assert (members_set.history_user, members_set.history_change_reason) == (
        members[0],
        "SRC members present: src-a, src-b",
    )
    assert sorted(row.user.username for row in members_set.members_present.all()) == ["src-a", "src-b"]
