"""A re-adjudication is a new signed adjudication with a reason that supersedes the current one; both are kept."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from ctit_trial.errors import InvalidInput
from dosing import selectors as dosing_selectors
from enrollment.roles import SRC_MEMBER
from enrollment.selectors import protocol_current
from safety import selectors, services
from safety.models import AdverseEvent, DltAdjudication
from safety.selectors import AdjudicationState
from tests.factories import PASSWORD, make_adverse_event, make_infusion, make_staff_user, make_subject, set_open_level

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
CONFIRMED_AT = NOW - timedelta(days=1)
NEEDS_REASON = (
    "This AE was already adjudicated: give the reason for the new adjudication "
    "(current: Test Src_Member — DLT confirmed — 2026-05-31 02:00 UTC)."
)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(CONFIRMED_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def trial(site_a):
    call_command("seed", verbosity=0)
    set_open_level(1)
    return site_a


@pytest.fixture
def member(trial, site_a):
    return make_staff_user(role_key=SRC_MEMBER, sites=[site_a], username="src-a")


@pytest.fixture
def confirmed(site_a, member, clock):
    """Level 1's titration subject (window complete) with an anaphylaxis confirmed as a DLT a day ago: "1T"."""
    subject = make_infusion(subject=make_subject(site=site_a), level=1, started_at=NOW - timedelta(days=40)).subject
    event = make_adverse_event(
        subject=subject, onset_date=(NOW - timedelta(days=38)).date(), term="anaphylaxis", grade=3
    )
    services.dlt_adjudicate(actor=member, ae=event, decision="confirm", reason="Anaphylaxis", password=PASSWORD)
    clock.move_to(NOW)
    return event


def readjudicate(ae, actor, *, reason_for_change, decision="reject"):
    return services.dlt_adjudicate(
        actor=actor,
        ae=ae,
        decision=decision,
        reason="Reaction to the premedication, not the product",
        reason_for_change=reason_for_change,
        password=PASSWORD,
    )


def test_a_second_adjudication_without_a_reason_for_change_is_refused(confirmed, member):
    with pytest.raises(InvalidInput) as refused:
        readjudicate(confirmed, member, reason_for_change="  ")

    assert refused.value.errors == {"reason_for_change": [NEEDS_REASON]}
    assert DltAdjudication.objects.count() == 1


def test_the_re_adjudication_supersedes_and_both_are_kept(confirmed, member):
    later = readjudicate(confirmed, member, reason_for_change="Allergy work-up: premedication")

    chain = selectors.adjudication_chain(AdverseEvent.objects.get(pk=confirmed.pk).dlt_assessment)
    assert [(row.decision, row.supersedes_id) for row in chain] == [("confirm", None), ("reject", chain[0].pk)]
    assert chain[1] == later and later.reason_for_change == "Allergy work-up: premedication"
    assert selectors.adjudication_state(AdverseEvent.objects.get(pk=confirmed.pk)) == AdjudicationState.REJECTED
    assert later.history.get().history_change_reason == (
        "Re-adjudicated, superseding Test Src_Member — DLT confirmed — 2026-05-31 02:00 UTC: "
        "Allergy work-up: premedication"
    )
    assert chain[0].history.count() == 1  # the superseded adjudication was never edited


def test_the_dose_path_follows_the_latest_adjudication(confirmed, member):
    before = dosing_selectors.recommendation(protocol_current(), now=NOW).path

    readjudicate(confirmed, member, reason_for_change="Allergy work-up: premedication")
    rejected = dosing_selectors.recommendation(protocol_current(), now=NOW).path
    readjudicate(confirmed, member, decision="confirm", reason_for_change="Sponsor's medical review")

    assert (before, rejected) == ("1T", "1G")
    assert dosing_selectors.recommendation(protocol_current(), now=NOW).path == "1T"


def test_the_api_requires_the_reason_and_shows_the_chain(confirmed, api_client_for, site_a):
    client = api_client_for(SRC_MEMBER, site_a, username="src-b")
    url = f"/api/v1/adverse-events/{confirmed.pk}/adjudicate/"
    payload = {"decision": "reject", "reason": "Premedication reaction", "password": PASSWORD}

    refused = client.post(url, payload, format="json")
    accepted = client.post(url, {**payload, "reason_for_change": "Allergy work-up"}, format="json")

    assert refused.status_code == 400
    assert refused.json() == {"detail": NEEDS_REASON, "errors": {"reason_for_change": [NEEDS_REASON]}}
    assert accepted.status_code == 200
    dlt = accepted.json()["dlt"]
    assert (dlt["state"], dlt["decision"], dlt["meaning"], dlt["adjudicator"]) == (
        "rejected",
        "reject",
        "DLT rejected",
        "src-b",
    )
    rows = [
        (
            r["decision"],
            r["adjudicator"],
            r["meaning"],
            r["signed_at"],
            r["reason_for_change"],
            r["current"],
            r["valid"],
        )
        for r in dlt["adjudications"]
    ]
    assert rows == [
        ("confirm", "src-a", "DLT confirmed", "2026-05-31T02:00:00Z", "", False, True),
        ("reject", "src-b", "DLT rejected", "2026-06-01T02:00:00Z", "Allergy work-up", True, True),
    ]
    assert dlt["adjudications"][1]["supersedes"] == dlt["adjudications"][0]["id"]


def test_the_admin_shows_the_chain(confirmed, member, client, django_user_model):
    readjudicate(confirmed, member, reason_for_change="Allergy work-up: premedication")
    django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    client.login(username="root", password=PASSWORD)

    page = client.get(f"/admin/safety/dltassessment/{confirmed.dlt_assessment.pk}/change/").content.decode()

    assert "Test Src_Member — DLT confirmed — 2026-05-31 10:00 (Asia/Shanghai, UTC+08:00)" in page
    assert "Test Src_Member — DLT rejected — 2026-06-01 10:00 (Asia/Shanghai, UTC+08:00)" in page
    assert "superseded" in page and "Allergy work-up: premedication" in page
