"""Database constraints behind the safety invariants (they hold even if a service were bypassed)."""

from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from ctit_trial.audit import system_actor
from safety.models import AdverseEvent, CtcaeTerm, DltAdjudication, DltAssessment, Visit, VisitDefinition
from tests.factories import make_subject

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(site_a):
    call_command("seed", verbosity=0)
    return make_subject(site=site_a)


def ae(subject, **values) -> AdverseEvent:
    fields = {
        "subject": subject,
        "verbatim_term": "ALT up",
        "ctcae_term": CtcaeTerm.objects.get(code="alt_increased"),
        "ctcae_version": "5.0",
        "grade": 2,
        "onset_date": date(2026, 6, 4),
        "recorded_by": system_actor(),
        "recorded_at": datetime(2026, 6, 4, tzinfo=UTC),
        **values,
    }
    return AdverseEvent(**fields)


def refused(instance) -> bool:
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize(
    "values",
    [
        {"grade": 6},
        {"ongoing": False},  # ended without an end date
        {"ongoing": False, "end_date": date(2026, 6, 3)},  # ended before onset
        {"other_term": "ALT up", "other_meddra_code": "10001551"},  # both a catalogue and another term
        {"serious": True, "awareness_at": datetime(2026, 6, 4, tzinfo=UTC)},  # serious without a criterion
        {"sae_death": True, "grade": 5, "outcome": "fatal"},  # a criterion but not serious
        {"grade": 5},  # grade 5 that is not fatal
    ],
)
def test_inconsistent_adverse_events_are_refused_by_the_database(subject, values):
    assert refused(ae(subject, **values))


def test_one_open_lab_episode_per_term(subject):
    ae(subject, source="lab").save()

    assert refused(ae(subject, source="lab"))
    assert not refused(ae(subject, source="lab", ongoing=False, end_date=date(2026, 6, 9)))
    assert not refused(ae(subject, source="manual"))


def test_adjudications_have_reasons_and_form_one_chain(subject):
    event = ae(subject)
    event.save()
    assessment = DltAssessment.objects.create(
        adverse_event=event, is_candidate=True, flag_reason="x", flagged_at=event.recorded_at
    )

    def adjudication(**values):
        signed = {"signer": system_actor(), "printed_name": "S", "meaning": "DLT confirmed", "content_digest": "f" * 64}
        fields = {"decision": "confirm", "decision_reason": "Related", "signed_at": event.recorded_at, **signed}
        return DltAdjudication(assessment=assessment, **{**fields, **values})

    first = adjudication()
    first.save()

    assert refused(adjudication(decision_reason=""))  # no reason
    assert refused(adjudication())  # a second first adjudication
    assert refused(adjudication(supersedes=first))  # superseding without a reason for change
    adjudication(supersedes=first, reason_for_change="Grade corrected").save()
    assert refused(adjudication(supersedes=first, reason_for_change="A fork"))  # superseded once only


def test_visit_constraints(subject):
    definition = VisitDefinition.objects.get(code="D7")
    window = {"target_date": date(2026, 6, 9), "window_earliest": date(2026, 6, 8), "window_latest": date(2026, 6, 10)}

    assert refused(Visit(subject=subject, definition=definition, status="done", **window))  # done without a date
    assert refused(Visit(subject=subject, definition=definition, deviation=True, **window))  # deviation, no reason
    assert refused(Visit(subject=subject, definition=definition, **{**window, "window_latest": date(2026, 6, 8)}))
    Visit(subject=subject, definition=definition, **window).save()
    assert refused(Visit(subject=subject, definition=definition, **window))  # one visit per definition
