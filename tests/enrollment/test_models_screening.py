"""The subject status table, the screening rows ⇄ Appendix A document round trip, and database constraints."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from ctit_trial.audit import system_actor
from ctit_trial.signatures import content_digest
from enrollment import selectors
from enrollment.documents import screening_document
from enrollment.models import SUBJECT_TRANSITIONS, Screening, ScreeningLab, Subject, SubjectIdentity
from enrollment.rules import parse_screening_document
from tests.enrollment.documents import APPENDIX_A, DELETE, changed
from tests.factories import make_screening

pytestmark = pytest.mark.django_db
S = Subject.Status


def test_allowed_transitions_table_is_exactly_the_protocol_flow():
    assert SUBJECT_TRANSITIONS == {
        S.SCREENING: (S.ENROLLED, S.SCREEN_FAILED, S.WITHDRAWN),
        S.SCREEN_FAILED: (S.SCREENING,),
        S.ENROLLED: (S.DOSED, S.SCREEN_FAILED, S.WITHDRAWN),
        S.DOSED: (S.COMPLETED, S.WITHDRAWN),
        S.COMPLETED: (),
        S.WITHDRAWN: (),
    }


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (S.SCREENING, S.ENROLLED, True),
        (S.SCREEN_FAILED, S.SCREENING, True),
        (S.SCREEN_FAILED, S.ENROLLED, False),
        (S.ENROLLED, S.SCREENING, False),
        (S.DOSED, S.SCREEN_FAILED, False),
        (S.COMPLETED, S.WITHDRAWN, False),
        (S.WITHDRAWN, S.SCREENING, False),
    ],
)
def test_can_become_follows_the_table(current, target, allowed):
    assert Subject(status=current).can_become(target) is allowed


def test_rebuilt_document_parses_to_the_same_screening_as_the_one_saved(screened):
    screening = selectors.screening_current(screened)

    document = screening_document(screening)

    assert parse_screening_document(document) == parse_screening_document(APPENDIX_A)
    assert list(document) == list(APPENDIX_A)
    assert document["labs"]["anc"] == {"value": Decimal("2.1"), "unit": "10^9/L", "uln": None, "lln": None}
    assert document["planned_infusion_at"] == "2026-03-10T09:00:00+08:00"
    assert document["consent_signed_on"] == "2026-03-02"


def test_rebuilt_document_keeps_unanswered_history_apart_from_none(consented):
    doc = changed({"history.last_anticoagulant_on": DELETE, "last_platelet_transfusion_at": DELETE})
    screening = make_screening(subject=consented, document=doc)

    document = screening_document(screening)

    assert "last_anticoagulant_on" not in document["history"]
    assert document["history"]["last_cardiac_disease_on"] is None
    assert "last_platelet_transfusion_at" not in document
    assert parse_screening_document(document) == parse_screening_document(doc)


def test_rebuilt_document_round_trips_instants_dates_and_other_units(consented):
    doc = changed(
        {
            "last_platelet_transfusion_at": "2026-03-06T08:30:00+08:00",
            "history.last_thromboembolism_on": "2025-01-15",
            "labs.creatinine": {"value": 0.79, "unit": "mg/dL", "uln": 0.95, "lln": 0.5},
            "labs.hemoglobin": {"value": 9.8, "unit": "g/dL"},
            "sex": "M",
            "partner_wocbp": False,
        }
    )
    screening = make_screening(subject=consented, document=doc)

    document = screening_document(Screening.objects.get(pk=screening.pk))

    assert parse_screening_document(document) == parse_screening_document(doc)
    assert document["last_platelet_transfusion_at"] == "2026-03-06T08:30:00+08:00"
    assert document["labs"]["creatinine"] == {
        "value": Decimal("0.79"),
        "unit": "mg/dL",
        "uln": Decimal("0.95"),
        "lln": Decimal("0.5"),
    }


def test_digest_is_stable_on_reload_and_sees_one_lab_value(screened):
    screening = selectors.screening_current(screened)
    before = content_digest(screening_document(screening))

    lab = ScreeningLab.objects.get(screening=screening, analyte="platelets")
    lab.value = Decimal("73")
    lab.save()

    assert content_digest(screening_document(Screening.objects.get(pk=screening.pk))) != before
    lab.value = Decimal("72.0000")
    lab.save()
    assert content_digest(screening_document(Screening.objects.get(pk=screening.pk))) == before


def test_one_row_per_lab_and_screening(screened):
    screening = selectors.screening_current(screened)

    with pytest.raises(IntegrityError), transaction.atomic():
        ScreeningLab.objects.create(screening=screening, analyte="platelets", value=1, unit="10^9/L")


def test_one_identity_per_subject(subject):
    SubjectIdentity.objects.create(subject=subject, full_name="Li Na")

    with pytest.raises(IntegrityError), transaction.atomic():
        SubjectIdentity.objects.create(subject=subject, full_name="Li Na again")


def test_an_enrolled_subject_must_have_an_enrollment_time(subject):
    subject.status = S.ENROLLED
    subject._history_user = system_actor()

    with pytest.raises(IntegrityError), transaction.atomic():
        subject.save()
