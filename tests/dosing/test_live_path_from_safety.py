"""The live dose path follows safety data: a candidate holds, a confirmed DLT is T, a late DLT pauses escalation."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from dosing import selectors
from enrollment.roles import SRC_MEMBER
from enrollment.selectors import protocol_current
from safety import services as safety_services
from tests.factories import PASSWORD, make_adverse_event, make_infusion, make_staff_user, make_subject, set_open_level

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def titration_subject(site_a):
    """Level 1 open; its only subject was dosed 40 days ago (window complete): path "1N"."""
    call_command("seed", verbosity=0)
    set_open_level(1)
    infusion = make_infusion(subject=make_subject(site=site_a), level=1, started_at=NOW - timedelta(days=40))
    return infusion.subject


def anaphylaxis(subject):
    d0 = (NOW - timedelta(days=40)).date()
    return make_adverse_event(subject=subject, onset_date=d0 + timedelta(days=2), term="anaphylaxis", grade=3)


def test_an_unadjudicated_candidate_holds_and_blocks(titration_subject):
    anaphylaxis(titration_subject)

    status = selectors.escalation_status(protocol_current(), now=NOW)

    assert status["path"] == "1P"
    assert status["recommendation"]["action"] == "hold"
    assert status["blockers"][0] == "DLT candidates await adjudication: S-BJ01-001 (level 1)."


@pytest.mark.parametrize(("decision", "path", "action"), [("confirm", "1T", "enroll"), ("reject", "1G", "enroll")])
def test_adjudication_decides_the_letter(titration_subject, site_a, decision, path, action):
    event = anaphylaxis(titration_subject)
    member = make_staff_user(role_key=SRC_MEMBER, sites=[site_a])

    safety_services.dlt_adjudicate(actor=member, ae=event, decision=decision, reason="Reviewed", password=PASSWORD)
    live = selectors.recommendation(protocol_current(), now=NOW)

    assert (live.path, live.decision.action, live.decision.dose_level, live.decision.subjects) == (path, action, 1, 2)


def test_a_late_dlt_at_level_one_pauses_escalation_to_level_two(titration_subject, site_a):
    # given: escalated to level 2, one subject dosed there
    set_open_level(2)
    make_infusion(subject=make_subject(site=site_a), level=2, started_at=NOW - timedelta(days=5))
    assert selectors.recommendation(protocol_current(), now=NOW).path == "1N 2P"

    # when: an AE of the level-1 subject is confirmed as a DLT
    member = make_staff_user(role_key=SRC_MEMBER, sites=[site_a])
    safety_services.dlt_adjudicate(
        actor=member, ae=anaphylaxis(titration_subject), decision="confirm", reason="Late report", password=PASSWORD
    )

    # then: level 1 must become a 3+3 cohort first, and the open level 2 no longer matches
    status = selectors.escalation_status(protocol_current(), now=NOW)
    assert status["path"] == "1T 2P"
    assert (status["recommendation"]["action"], status["recommendation"]["dose_level"]) == ("enroll", 1)
    assert "Missing SRC decision: the engine recommends enroll at level 1." in status["blockers"]


def test_sentinel_and_gap_blockers_read_in_the_dosing_site_s_time(site_a):
    """Site A is Beijing: an infusion at 08:00 there (00:00 UTC) blocks the next one until 08:00 the next day."""
    call_command("seed", verbosity=0)
    set_open_level(1)
    make_infusion(subject=make_subject(site=site_a), level=1, started_at=NOW - timedelta(hours=2))

    status = selectors.escalation_status(protocol_current(), now=NOW)

    assert "Minimum gap: no infusion before 2026-06-02 08:00 (Asia/Shanghai, UTC+08:00)." in status["blockers"]
    assert (
        "Sentinel: the first subject at level 1 is observed until 2026-06-15 08:00 (Asia/Shanghai, UTC+08:00)."
        in status["blockers"]
    )


def test_another_site_s_staff_read_the_blocker_without_the_subject_s_number(titration_subject, site_b):
    from rest_framework.test import APIClient

    from enrollment.roles import STUDY_COORDINATOR

    anaphylaxis(titration_subject)
    other_site = make_staff_user(role_key=STUDY_COORDINATOR, sites=[site_b], username="coord-b")
    api = APIClient()
    api.force_authenticate(other_site)

    own = selectors.escalation_status(protocol_current(), now=NOW)["blockers"][0]
    theirs = selectors.escalation_status(protocol_current(), now=NOW, viewer=other_site)["blockers"][0]
    response = api.get("/api/v1/escalation/status/")

    assert own == "DLT candidates await adjudication: S-BJ01-001 (level 1)."
    assert theirs == "DLT candidates await adjudication: another site's subject (level 1)."
    assert (response.status_code, response.json()["blockers"][0]) == (200, theirs)
    assert "S-BJ01" not in response.content.decode()
