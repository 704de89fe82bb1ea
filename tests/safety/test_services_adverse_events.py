"""Adverse events: recorded with every §6 field, validated by field, corrected with a reason; derived study days."""

from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

from ctit_trial.audit import REASON_REQUIRED
from ctit_trial.errors import InvalidInput, PermissionDenied
from safety import selectors, services
from safety.models import AdverseEvent, CtcaeTerm
from tests.factories import make_adverse_event, make_infusion, make_site_member, make_subject

pytestmark = pytest.mark.django_db
INFUSED_AT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # D0 = 2 June in Shanghai


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime(2026, 6, 10, 2, 0, tzinfo=UTC), tick=False)  # 10:00 on 10 June in Shanghai


@pytest.fixture
def dosed(site_a):
    call_command("seed", verbosity=0)
    return make_infusion(subject=make_subject(site=site_a), level=1, started_at=INFUSED_AT).subject


@pytest.fixture
def investigator(dosed):
    return make_site_member(site=dosed.site)


def test_a_recorded_ae_keeps_its_term_version_and_assessments(dosed, investigator):
    ae = make_adverse_event(
        subject=dosed,
        actor=investigator,
        term="infusion_related_reaction",
        verbatim_term="Chills and flushing during the infusion",
        onset_date=date(2026, 6, 2),
        grade=2,
        relatedness="probably",
        expectedness="expected",
        action_taken="infusion_interrupted",
        outcome="recovered",
        end_date=date(2026, 6, 2),
        treatment="Promethazine 25 mg IM",
    )

    assert (ae.term_name, ae.ctcae_term.meddra_code, ae.ctcae_version) == (
        "Infusion related reaction",
        "10051792",
        "5.0",
    )
    assert (ae.ongoing, ae.source, ae.recorded_by, ae.susar) == (False, "manual", investigator, False)
    assert (selectors.onset_study_day(ae), selectors.is_treatment_emergent(ae)) == (0, True)
    assert ae.history.first().history_change_reason == "Adverse event recorded"


def test_onset_day_is_counted_from_the_site_local_infusion_day(dosed):
    before = make_adverse_event(subject=dosed, onset_date=date(2026, 6, 1))  # the UTC day of the infusion
    on_d7 = make_adverse_event(subject=dosed, onset_date=date(2026, 6, 9))

    assert (selectors.onset_study_day(before), selectors.is_treatment_emergent(before)) == (-1, False)
    assert (selectors.onset_study_day(on_d7), selectors.is_treatment_emergent(on_d7)) == (7, True)


def test_other_terms_outside_the_catalogue_carry_their_meddra_code(dosed):
    ae = make_adverse_event(
        subject=dosed, term=None, other_term="Nausea", other_meddra_code="10028813", onset_date=date(2026, 6, 3)
    )

    assert (ae.ctcae_term, ae.term_name, ae.other_meddra_code, ae.ctcae_version) == (None, "Nausea", "10028813", "5.0")


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        (
            {"term": "anaphylaxis", "grade": 1},
            {"grade": ["Anaphylaxis has no grade 1 in CTCAE (grades 3, 4, 5)."]},
        ),
        (
            {"term": None},
            {"ctcae_term": ["Give the CTCAE term, or another term (other_term) with its MedDRA code."]},
        ),
        (
            {"term": None, "other_term": "Nausea", "other_meddra_code": "1002"},
            {"other_meddra_code": ["A MedDRA code is 8 digits."]},
        ),
        (
            {"onset_date": date(2026, 6, 11)},
            {"onset_date": ["The onset date cannot be in the future (today is 2026-06-10)."]},
        ),
        (
            {"end_date": date(2026, 6, 3), "ongoing": True},
            {"end_date": ["An ongoing AE has no end date."]},
        ),
        (
            {"end_date": date(2026, 6, 4), "onset_date": date(2026, 6, 5)},
            {"end_date": ["The end date cannot be before the onset date."]},
        ),
        (
            {"serious": True, "awareness_at": datetime(2026, 6, 5, 2, 0, tzinfo=UTC)},
            {
                "serious": [
                    "A serious AE needs at least one ICH E2A criterion (death, life-threatening, hospitalization, …)."
                ]
            },
        ),
        (
            {"sae_hospitalization": True},
            {
                "serious": ["An AE meeting an ICH E2A criterion (sae_hospitalization) is serious."],
            },
        ),
        (
            {"serious": True, "sae_hospitalization": True},
            {"awareness_at": ["Give when the site became aware of the SAE: the 24-hour reporting clock starts then."]},
        ),
        ({"grade": 5}, {"outcome": ["A grade 5 AE has the outcome 'fatal'."]}),
        (
            {"relatedness": ""},
            {
                "relatedness": [
                    "Assess the relatedness to XJ-MK-002 (definitely, probably, possibly, unlikely, not related)."
                ]
            },
        ),
    ],
)
def test_invalid_input_names_the_field_and_saves_nothing(dosed, values, errors):
    values = {"onset_date": date(2026, 6, 5), **values}

    with pytest.raises(InvalidInput) as refused:
        make_adverse_event(subject=dosed, **values)

    assert refused.value.errors == errors
    assert AdverseEvent.objects.count() == 0


def test_staff_of_another_site_cannot_record(dosed, site_b):
    with pytest.raises(PermissionDenied, match="You are not a member of site BJ01."):
        make_adverse_event(subject=dosed, onset_date=date(2026, 6, 5), actor=make_site_member(site=site_b))


def test_a_correction_needs_a_reason_and_changes_only_what_differs(dosed, investigator):
    ae = make_adverse_event(subject=dosed, onset_date=date(2026, 6, 5), grade=1)

    with pytest.raises(InvalidInput) as refused:
        services.ae_update(actor=investigator, ae=ae, reason="", grade=2)
    unchanged = services.ae_update(actor=investigator, ae=ae, reason="Same", grade=1).history.count()
    resolved = services.ae_update(actor=investigator, ae=ae, reason="Resolved on D5", end_date=date(2026, 6, 7))

    assert refused.value.errors == {"reason": [REASON_REQUIRED]}
    assert unchanged == 1
    assert (resolved.ongoing, resolved.end_date, resolved.grade) == (False, date(2026, 6, 7), 1)
    assert resolved.history.first().history_change_reason == "Resolved on D5"


def test_susar_is_serious_related_and_unexpected(dosed, investigator):
    ae = make_adverse_event(
        subject=dosed,
        term="thromboembolic_event",
        onset_date=date(2026, 6, 6),
        grade=3,
        serious=True,
        sae_hospitalization=True,
        awareness_at=datetime(2026, 6, 6, 3, 0, tzinfo=UTC),
        expectedness="unexpected",
        relatedness="possibly",
    )
    unrelated = services.ae_update(actor=investigator, ae=ae, reason="Reassessed", relatedness="not_related")

    assert AdverseEvent.objects.filter(pk=ae.pk).values_list("susar", flat=True).get() is False
    assert (ae.susar, unrelated.susar) == (True, False)
    assert CtcaeTerm.objects.get(code="thromboembolic_event").meddra_code == "10043565"
