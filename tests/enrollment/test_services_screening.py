"""Saving, correcting and re-screening through the services: validation, the stored evaluation, the audit trail."""

from datetime import UTC, datetime

import pytest

from ctit_trial.errors import Conflict, InvalidInput
from enrollment import selectors, services
from enrollment.models import (
    CriterionVerdict,
    EligibilityEvaluation,
    Screening,
    ScreeningLab,
    ScreeningSerology,
    Subject,
)
from enrollment.roles import DATA_MANAGER, INVESTIGATOR
from enrollment.rules import CRITERION_CODES, DocumentError
from tests.enrollment.conftest import CONSENT_AT
from tests.enrollment.documents import APPENDIX_A, DELETE, changed
from tests.factories import make_consent, make_staff_user

pytestmark = pytest.mark.django_db


def row_counts() -> tuple[int, int, int, int]:
    return (
        Screening.objects.count(),
        ScreeningLab.objects.count(),
        ScreeningSerology.objects.count(),
        EligibilityEvaluation.objects.count(),
    )


@pytest.fixture
def investigator_user(trial):
    return make_staff_user(role_key=INVESTIGATOR, sites=[trial])


def test_saving_stores_rows_and_the_evaluation_with_every_verdict(consented, investigator_user):
    screening = services.screening_record(actor=investigator_user, subject=consented, document=APPENDIX_A)

    evaluation = selectors.evaluation_current(screening)
    assert (screening.attempt, screening.screening_date.isoformat()) == (1, "2026-03-03")
    assert screening.consent == consented.consents.get()
    assert sorted(screening.labs.values_list("analyte", flat=True)) == sorted(APPENDIX_A["labs"])
    assert (evaluation.outcome, evaluation.engine_version, evaluation.protocol_version) == ("eligible", "1.0.0", "1.0")
    assert [v.criterion.code for v in evaluation.verdicts.order_by("pk")] == list(CRITERION_CODES)
    latest = screening.history.first()
    assert (latest.history_user, latest.history_change_reason) == (investigator_user, "Screening recorded")
    verdict_history = CriterionVerdict.history.filter(evaluation_id=evaluation.pk)
    assert verdict_history.count() == 27
    assert {row.history_user_id for row in verdict_history} == {investigator_user.pk}


def test_no_screening_before_consent_and_nothing_saved(subject, investigator_user):
    with pytest.raises(Conflict) as refused:
        services.screening_record(actor=investigator_user, subject=subject, document=APPENDIX_A)

    assert refused.value.message == (
        "No informed consent is recorded for S-BJ01-001: screening data cannot be entered before consent."
    )
    assert row_counts() == (0, 0, 0, 0)


def test_consent_date_in_the_document_must_match_the_recorded_consent(consented, investigator_user):
    with pytest.raises(DocumentError) as refused:
        services.screening_record(
            actor=investigator_user, subject=consented, document=changed({"consent_signed_on": "2026-03-01"})
        )

    assert refused.value.errors == {
        "consent_signed_on": [
            "Consent date 2026-03-01 does not match the recorded consent (version 1.0, signed on 2026-03-02 at BJ01)."
        ]
    }
    assert row_counts() == (0, 0, 0, 0)


def test_consent_date_is_the_site_local_day(subject, clock, investigator_user):
    # given: signed at 01:00 in Beijing on 2 March, which is still 1 March in UTC
    signed_at = datetime(2026, 3, 1, 17, 0, tzinfo=UTC)
    clock(CONSENT_AT)
    make_consent(subject=subject, signed_at=signed_at)
    clock(datetime(2026, 3, 3, 3, 0, tzinfo=UTC))

    # when: the document leaves the consent date out
    screening = services.screening_record(
        actor=investigator_user, subject=subject, document=changed({"consent_signed_on": DELETE})
    )

    # then: IN1 used the Beijing date
    verdict = selectors.evaluation_current(screening).verdicts.get(criterion__code="IN1")
    assert verdict.reason == "Age 55 on consent date 2026-03-02 is within 18–75."


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"screening_date": DELETE}, {"screening_date": ["The screening date is required to save a screening."]}),
        (
            {"screening_date": "2026-03-01"},
            {"screening_date": ["Screening date 2026-03-01 is before the consent date 2026-03-02."]},
        ),
        (
            {"screening_date": "2026-03-04"},
            {"screening_date": ["Screening date 2026-03-04 is in the future (today at BJ01 is 2026-03-03)."]},
        ),
        (
            {"date_of_birth": "2026-03-05", "screening_date": "2026-03-03"},
            {"date_of_birth": ["Date of birth 2026-03-05 is after the consent date 2026-03-02."]},
        ),
        ({"labs.inr.value": 1.12345}, {"labs.inr.value": ["Ensure that there are no more than 4 decimal places."]}),
        ({"height_cm": 1234567}, {"height_cm": ["Ensure that there are no more than 6 digits in total."]}),
    ],
)
def test_invalid_screening_names_the_field_and_saves_nothing(consented, investigator_user, changes, errors):
    with pytest.raises(InvalidInput) as refused:
        services.screening_record(actor=investigator_user, subject=consented, document=changed(changes))

    assert refused.value.errors == errors
    assert row_counts() == (0, 0, 0, 0)
    assert consented.history.count() == 1


def test_a_second_screening_while_screening_is_refused(screened, investigator_user):
    with pytest.raises(Conflict) as refused:
        services.screening_record(actor=investigator_user, subject=screened, document=APPENDIX_A)

    assert refused.value.message == (
        "S-BJ01-001 already has a current screening (#1): correct it with a reason, or record a screen failure "
        "before re-screening."
    )
    assert Screening.objects.count() == 1


def test_correction_needs_a_reason(screened, investigator_user):
    screening = selectors.screening_current(screened)

    with pytest.raises(InvalidInput) as refused:
        services.screening_update(actor=investigator_user, screening=screening, document=APPENDIX_A, reason=" ")

    assert refused.value.errors == {"reason": ["A reason for change is required when editing existing data."]}


def test_correction_records_user_reason_and_evaluates_again(screened, trial):
    data_manager = make_staff_user(role_key=DATA_MANAGER, sites=[trial])
    screening = selectors.screening_current(screened)

    services.screening_update(
        actor=data_manager,
        screening=screening,
        document=changed({"labs.platelets.value": 101}),
        reason="Transcription error: PLT was 101",
    )

    lab = ScreeningLab.objects.get(screening=screening, analyte="platelets")
    latest, previous = lab.history.all()[:2]
    assert (previous.value, latest.value) == (72, 101)
    assert (latest.history_user, latest.history_change_reason) == (data_manager, "Transcription error: PLT was 101")
    assert screening.history.count() == 1  # the screening row itself did not change
    evaluations = list(screening.evaluations.order_by("pk"))
    assert [evaluation.outcome for evaluation in evaluations] == ["eligible", "ineligible"]
    assert evaluations[1].verdicts.get(criterion__code="IN2").status == "fail"


def test_unchanged_correction_adds_no_evaluation(screened, investigator_user):
    screening = selectors.screening_current(screened)

    services.screening_update(actor=investigator_user, screening=screening, document=APPENDIX_A, reason="Checked")

    assert screening.evaluations.count() == 1


def test_a_lab_left_out_of_a_correction_is_deleted_with_history(screened, investigator_user):
    screening = selectors.screening_current(screened)

    services.screening_update(
        actor=investigator_user, screening=screening, document=changed({"labs.ast": DELETE}), reason="AST not drawn"
    )

    assert not ScreeningLab.objects.filter(screening=screening, analyte="ast").exists()
    deleted = ScreeningLab.history.filter(analyte="ast").first()
    assert (deleted.history_type, deleted.history_change_reason) == ("-", "AST not drawn")
    assert selectors.evaluation_current(screening).verdicts.get(criterion__code="EX13").status == "missing"


def test_rescreening_a_screen_failure_keeps_both_screenings(screened, investigator_user):
    services.subject_screen_fail(actor=investigator_user, subject=screened, reason="PLT 42 on recheck")

    second = services.screening_record(
        actor=investigator_user, subject=screened, document=changed({"labs.platelets.value": 64})
    )

    screened.refresh_from_db()
    assert screened.status == Subject.Status.SCREENING
    assert list(screened.screenings.values_list("attempt", flat=True)) == [1, 2]
    assert selectors.screening_current(screened) == second
    assert screened.history.first().history_change_reason == "Re-screening (#2)"


def test_earlier_screening_cannot_be_corrected(screened, investigator_user):
    first = selectors.screening_current(screened)
    services.subject_screen_fail(actor=investigator_user, subject=screened, reason="PLT 42 on recheck")
    services.screening_record(actor=investigator_user, subject=screened, document=APPENDIX_A)

    with pytest.raises(Conflict) as refused:
        services.screening_update(actor=investigator_user, screening=first, document=APPENDIX_A, reason="fix")

    assert refused.value.message == (
        "Screening #1 is not the current screening of S-BJ01-001 (#2 is): earlier screenings stay as recorded."
    )


def test_staff_of_another_site_cannot_screen(consented, site_b, trial):
    outsider = make_staff_user(role_key=INVESTIGATOR, sites=[site_b])

    with pytest.raises(Exception, match="You are not a member of site BJ01."):
        services.screening_record(actor=outsider, subject=consented, document=APPENDIX_A)

    assert row_counts() == (0, 0, 0, 0)
