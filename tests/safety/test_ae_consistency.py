"""Issue 12, defect 6 and the AE date checks: death makes an AE serious; contradictions are refused, nothing written."""

from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

from ctit_trial.errors import InvalidInput
from safety.models import AdverseEvent
from tests.factories import make_adverse_event, make_consent, make_infusion, make_subject

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 25, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def dosed(site_a):
    call_command("seed", verbosity=0)
    subject = make_subject(site=site_a)
    make_consent(subject=subject, signed_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    return make_infusion(subject=subject, level=1, started_at=datetime(2026, 3, 9, 23, 0, tzinfo=UTC)).subject


def refusal(call) -> dict:
    with pytest.raises(InvalidInput) as refused:
        call()
    return refused.value.errors


def test_a_grade_5_ae_is_serious_by_death_and_starts_the_sae_clock(dosed):
    ae = make_adverse_event(
        subject=dosed, onset_date=date(2026, 3, 20), grade=5, outcome="fatal", end_date=date(2026, 3, 24)
    )

    ae.refresh_from_db()
    assert (ae.serious, ae.sae_death, ae.awareness_at) == (True, True, NOW)


def test_a_grade_5_ae_recorded_as_not_serious_is_refused(dosed):
    errors = refusal(
        lambda: make_adverse_event(
            subject=dosed,
            onset_date=date(2026, 3, 20),
            grade=5,
            outcome="fatal",
            end_date=date(2026, 3, 24),
            serious=False,
        )
    )

    assert errors == {"serious": ["A grade 5 (fatal) AE is serious (death criterion): the SAE 24-hour clock applies."]}
    assert AdverseEvent.objects.count() == 0


def test_death_is_only_the_outcome_of_a_grade_5_ae(dosed):
    errors = refusal(
        lambda: make_adverse_event(
            subject=dosed, onset_date=date(2026, 3, 20), grade=3, sae_death=True, serious=True, awareness_at=NOW
        )
    )

    assert errors["sae_death"] == ["Only a grade 5 AE (outcome 'fatal') results in death."]
    assert AdverseEvent.objects.count() == 0


def test_an_onset_before_the_consent_is_refused(dosed):
    errors = refusal(lambda: make_adverse_event(subject=dosed, onset_date=date(2026, 3, 1)))

    assert list(errors) == ["onset_date"]
    assert AdverseEvent.objects.count() == 0


def test_a_resolution_before_the_onset_is_refused(dosed):
    errors = refusal(
        lambda: make_adverse_event(
            subject=dosed, onset_date=date(2026, 3, 20), end_date=date(2026, 3, 18), ongoing=False, outcome="recovered"
        )
    )

    assert list(errors) == ["end_date"]
    assert AdverseEvent.objects.count() == 0
