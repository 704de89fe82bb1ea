"""DLT adjudication and SAE report signatures are bound to their AE, meaning, content and the server key."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from enrollment.roles import SRC_MEMBER
from safety import selectors, services
from safety.models import AdverseEvent, DltAssessment
from safety.selectors import AdjudicationState
from tests.factories import PASSWORD, make_adverse_event, make_infusion, make_site_member, make_subject
from tests.signature_forgery import copy_row, edit_row, forged_macs

pytestmark = pytest.mark.django_db
INFUSED_AT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)
AWARE_AT = datetime(2026, 6, 5, 2, 0, tzinfo=UTC)
NAUSEA = {"term": None, "other_term": "Nausea", "other_meddra_code": "10028813", "grade": 3}
SAE = {
    "term": "thromboembolic_event",
    "grade": 4,
    "serious": True,
    "sae_hospitalization": True,
    "awareness_at": AWARE_AT,
    "relatedness": "possibly",
}


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(AWARE_AT + timedelta(hours=2), tick=False)


@pytest.fixture
def dosed(site_a):
    call_command("seed", verbosity=0)
    return make_infusion(subject=make_subject(site=site_a), level=1, started_at=INFUSED_AT).subject


@pytest.fixture
def investigator(dosed):
    return make_site_member(site=dosed.site)


def fresh(ae) -> AdverseEvent:
    return AdverseEvent.objects.get(pk=ae.pk)


def dlt_state(ae) -> AdjudicationState:
    return selectors.adjudication_state(fresh(ae))


@pytest.fixture
def adjudicated(dosed, site_a):
    """Two identical DLT candidates of the subject; the first confirmed by an SRC member."""
    first, second = (make_adverse_event(subject=dosed, onset_date=date(2026, 6, 5), **NAUSEA) for _ in range(2))
    src = make_site_member(site=site_a, role_key=SRC_MEMBER)
    adjudication = services.dlt_adjudicate(actor=src, ae=first, decision="confirm", reason="Related", password=PASSWORD)
    return first, second, adjudication


def test_a_dlt_adjudication_copied_to_another_candidate_does_not_validate(adjudicated):
    first, second, adjudication = adjudicated

    copy_row(adjudication, assessment_id=DltAssessment.objects.get(adverse_event=second).pk)

    assert (dlt_state(first), dlt_state(second)) == (AdjudicationState.CONFIRMED, AdjudicationState.INVALIDATED)


def test_a_changed_dlt_meaning_or_decision_invalidates_the_adjudication(adjudicated):
    first, _, adjudication = adjudicated

    edit_row(adjudication, meaning="DLT rejected")
    meaning_changed = dlt_state(first)
    edit_row(adjudication, meaning="DLT confirmed", decision="reject")

    assert (meaning_changed, dlt_state(first)) == (AdjudicationState.INVALIDATED, AdjudicationState.INVALIDATED)


def test_a_changed_dlt_fact_invalidates_the_adjudication(adjudicated, investigator):
    first, _, _ = adjudicated

    services.ae_update(actor=investigator, ae=first, reason="Re-graded", grade=4)

    assert dlt_state(first) == AdjudicationState.INVALIDATED


def test_a_dlt_mac_computed_without_the_server_key_does_not_validate(adjudicated):
    first, _, adjudication = adjudicated
    ae = fresh(first)
    content = selectors.dlt_content(ae, ae.dlt_assessment, adjudication)

    for forged in forged_macs(adjudication, record=ae, content=content):
        edit_row(adjudication, content_digest=forged)
        assert dlt_state(first) == AdjudicationState.INVALIDATED


@pytest.fixture
def reported(dosed, investigator):
    """Two identical SAEs; the first reported to the sponsor under the investigator's signature."""
    first, second = (make_adverse_event(subject=dosed, onset_date=date(2026, 6, 4), **SAE) for _ in range(2))
    report = services.sae_report_record(
        actor=investigator, ae=first, reported_at=AWARE_AT + timedelta(hours=1), password=PASSWORD
    )
    return first, second, report


def test_an_sae_report_copied_to_another_sae_does_not_validate(reported):
    first, second, report = reported

    copy_row(report, adverse_event_id=second.pk)

    assert (selectors.sae_report_valid(fresh(first)), selectors.sae_report_valid(fresh(second))) == (True, False)


def test_a_changed_sae_meaning_invalidates_the_report(reported):
    first, _, report = reported

    edit_row(report, meaning="reviewed")

    assert selectors.sae_report_valid(fresh(first)) is False


def test_a_changed_sae_invalidates_the_report(reported, investigator):
    first, _, _ = reported

    services.ae_update(actor=investigator, ae=first, reason="Re-graded on review", grade=3)

    assert selectors.sae_report_valid(fresh(first)) is False


def test_an_sae_mac_computed_without_the_server_key_does_not_validate(reported):
    first, _, report = reported
    ae = fresh(first)
    content = selectors.sae_report_content(ae, reported_at=report.reported_at)

    for forged in forged_macs(report, record=ae, content=content):
        edit_row(report, content_digest=forged)
        assert selectors.sae_report_valid(fresh(first)) is False
