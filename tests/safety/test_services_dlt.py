"""DLT candidates flagged on every AE save, signed adjudication, invalidation by later changes, dlt_facts."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from ctit_trial.audit import save_audited, system_actor
from ctit_trial.errors import Conflict, InvalidInput, PermissionDenied
from ctit_trial.signatures import WRONG_PASSWORD
from enrollment.roles import INVESTIGATOR, SRC_MEMBER, STUDY_COORDINATOR
from safety import selectors, services
from safety.models import AdverseEvent, DltAssessment
from safety.selectors import AdjudicationState, SubjectDltFacts
from tests.factories import PASSWORD, make_adverse_event, make_infusion, make_site_member, make_subject

pytestmark = pytest.mark.django_db
INFUSED_AT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # D0 = 2 June in Shanghai
D28, D29 = date(2026, 6, 30), date(2026, 7, 1)
NAUSEA = {"term": None, "other_term": "Nausea", "other_meddra_code": "10028813"}


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime(2026, 7, 10, 2, 0, tzinfo=UTC), tick=False)


@pytest.fixture
def trial(site_a):
    call_command("seed", verbosity=0)
    return site_a


@pytest.fixture
def dosed(trial):
    return make_infusion(subject=make_subject(site=trial), level=1, started_at=INFUSED_AT).subject


def state(ae) -> AdjudicationState:
    """The adjudication state read afresh (as every request reads it)."""
    return selectors.adjudication_state(AdverseEvent.objects.get(pk=ae.pk))


def flagged(ae) -> tuple[bool, str]:
    assessment = DltAssessment.objects.get(adverse_event=ae)
    return assessment.is_candidate, assessment.rule


@pytest.mark.parametrize(
    ("onset", "expected"),
    [(D28, (True, "non_hematologic")), (D29, (False, ""))],
    ids=["onset-D28-in-window", "onset-D29-outside"],
)
def test_onset_day_28_is_in_the_window_and_day_29_is_not(dosed, onset, expected):
    ae = make_adverse_event(subject=dosed, onset_date=onset, grade=3, **NAUSEA)

    assert flagged(ae) == expected
    assert selectors.onset_study_day(ae) == (onset - date(2026, 6, 2)).days


def test_grade_2_is_not_a_candidate_and_grade_3_is(dosed):
    grade_2 = make_adverse_event(subject=dosed, onset_date=date(2026, 6, 5), grade=2, **NAUSEA)
    grade_3 = make_adverse_event(subject=dosed, onset_date=date(2026, 6, 5), grade=3, **NAUSEA)

    assert flagged(grade_2) == (False, "")
    assert grade_2.dlt_assessment.flag_reason == "grade 2 non-hematologic AE meets no DLT rule"
    assert flagged(grade_3) == (True, "non_hematologic")
    assert grade_3.dlt_assessment.flag_reason == "grade 3 non-hematologic AE; related; onset D3"


def test_possibly_related_is_a_candidate_and_unlikely_is_not(dosed):
    possibly = make_adverse_event(subject=dosed, onset_date=date(2026, 6, 5), grade=3, relatedness="possibly", **NAUSEA)
    unlikely = make_adverse_event(subject=dosed, onset_date=date(2026, 6, 5), grade=3, relatedness="unlikely", **NAUSEA)

    assert flagged(possibly) == (True, "non_hematologic")
    assert (flagged(unlikely), unlikely.dlt_assessment.flag_reason) == ((False, ""), "not related to the study product")


@pytest.mark.parametrize(("hours", "expected"), [("72", (False, "")), ("73", (True, "non_hematologic"))])
def test_grade_3_fever_resolving_within_72_hours_is_excepted(dosed, hours, expected):
    fever = make_adverse_event(
        subject=dosed, onset_date=date(2026, 6, 3), grade=3, fever_resolved_within_hours=Decimal(hours)
    )

    assert flagged(fever) == expected


def test_an_ae_before_dosing_is_never_a_candidate(trial, site_a):
    ae = make_adverse_event(
        subject=make_subject(site=site_a),
        onset_date=date(2026, 6, 5),
        grade=5,
        outcome="fatal",
        serious=True,
        sae_death=True,
        awareness_at=datetime(2026, 6, 5, 2, 0, tzinfo=UTC),
    )

    assert flagged(ae) == (False, "")
    assert ae.dlt_assessment.flag_reason == "no infusion recorded: the DLT window has not started"


@pytest.fixture
def candidate(dosed):
    return make_adverse_event(subject=dosed, onset_date=date(2026, 6, 5), grade=3, **NAUSEA)


@pytest.fixture
def src(trial, site_a):
    return make_site_member(site=site_a, role_key=SRC_MEMBER)


def adjudicate(ae, actor, decision="confirm", reason="Grade 3 nausea despite antiemetics", password=PASSWORD):
    return services.dlt_adjudicate(actor=actor, ae=ae, decision=decision, reason=reason, password=password)


def test_confirmation_is_signed_and_makes_a_dlt(candidate, src):
    adjudication = adjudicate(candidate, src)

    assert (adjudication.decision, adjudication.meaning, adjudication.printed_name) == (
        "confirm",
        "DLT confirmed",
        "Test Src_Member",
    )
    assert adjudication.signed_at == datetime(2026, 7, 10, 2, 0, tzinfo=UTC)
    assert adjudication.supersedes is None
    assert len(adjudication.content_digest) == 64  # HMAC-SHA256, checked in test_signature_binding
    assert state(candidate) == AdjudicationState.CONFIRMED
    assert adjudication.history.first().history_change_reason == "DLT confirmed: Grade 3 nausea despite antiemetics"
    assert selectors.dlt_facts([candidate.subject_id]) == {
        candidate.subject_id: SubjectDltFacts(dlt_confirmed=True, related_grade2=True, unadjudicated_candidates=0)
    }


def test_an_src_member_rejects_with_a_reason(candidate, src):
    with pytest.raises(InvalidInput) as no_reason:
        adjudicate(candidate, src, decision="reject", reason=" ")
    adjudication = adjudicate(candidate, src, decision="reject", reason="Caused by concurrent chemotherapy")

    assert no_reason.value.errors == {"reason": ["Give the reason for rejecting the DLT candidate."]}
    assert (adjudication.decision, adjudication.meaning) == ("reject", "DLT rejected")
    assert state(candidate) == AdjudicationState.REJECTED
    facts = selectors.dlt_facts([candidate.subject_id])[candidate.subject_id]
    assert (facts.dlt_confirmed, facts.unadjudicated_candidates) == (False, 0)


def test_a_confirmation_needs_a_rationale_too(candidate, src):
    with pytest.raises(InvalidInput) as refused:
        adjudicate(candidate, src, reason="")

    assert refused.value.errors == {"reason": ["Give a short rationale for confirming the DLT."]}


def test_a_wrong_password_signs_nothing(candidate, src):
    with pytest.raises(InvalidInput) as refused:
        adjudicate(candidate, src, password="not-my-password")

    assert refused.value.errors == {"password": [WRONG_PASSWORD]}
    assert not DltAssessment.objects.get(adverse_event=candidate).adjudications.exists()
    assert state(candidate) == AdjudicationState.PENDING


@pytest.mark.parametrize("role", [STUDY_COORDINATOR, INVESTIGATOR])
def test_site_staff_cannot_adjudicate(candidate, site_a, role):
    staff = make_site_member(site=site_a, role_key=role)

    with pytest.raises(PermissionDenied, match="Only SRC members can adjudicate DLT candidates."):
        adjudicate(candidate, staff)


def test_a_non_candidate_cannot_be_adjudicated(dosed, src):
    mild = make_adverse_event(subject=dosed, onset_date=date(2026, 6, 5), grade=1, **NAUSEA)

    with pytest.raises(Conflict, match="is not a DLT candidate"):
        adjudicate(mild, src)


def test_a_later_grade_change_invalidates_the_adjudication(candidate, src, site_a):
    adjudicate(candidate, src)
    investigator = make_site_member(site=site_a)

    services.ae_update(actor=investigator, ae=candidate, reason="No change", treatment="Ondansetron 8 mg")
    still_valid = state(candidate)
    worse = services.ae_update(actor=investigator, ae=candidate, reason="Worsened on review", grade=4)

    assert still_valid == AdjudicationState.CONFIRMED  # not a DLT fact
    assert state(worse) == AdjudicationState.INVALIDATED
    assert selectors.dlt_facts([candidate.subject_id])[candidate.subject_id] == SubjectDltFacts(
        dlt_confirmed=False, related_grade2=True, unadjudicated_candidates=1
    )
    services.dlt_adjudicate(
        actor=src,
        ae=worse,
        decision="confirm",
        reason="Grade 4 confirmed",
        reason_for_change="Grade corrected to 4",
        password=PASSWORD,
    )
    assert state(worse) == AdjudicationState.CONFIRMED


def test_a_relatedness_change_removes_the_candidate(candidate, src, site_a):
    adjudicate(candidate, src)

    services.ae_update(actor=make_site_member(site=site_a), ae=candidate, reason="Reassessed", relatedness="unlikely")

    assert state(candidate) == AdjudicationState.NOT_CANDIDATE
    assert selectors.dlt_facts([candidate.subject_id]) == {
        candidate.subject_id: SubjectDltFacts(dlt_confirmed=False, related_grade2=False, unadjudicated_candidates=0)
    }


def test_dlt_facts_per_subject_in_three_queries(site_a, src, django_assert_max_num_queries):
    subjects = [make_subject(site=site_a) for _ in range(4)]
    for subject in subjects:
        make_infusion(subject=subject, level=1, started_at=INFUSED_AT)
    confirmed, pending, grade2, quiet = subjects
    adjudicate(make_adverse_event(subject=confirmed, onset_date=date(2026, 6, 5), grade=3, **NAUSEA), src)
    make_adverse_event(subject=confirmed, onset_date=date(2026, 6, 6), grade=1)
    make_adverse_event(subject=pending, onset_date=D28, grade=3, **NAUSEA)
    make_adverse_event(subject=pending, onset_date=date(2026, 6, 6), grade=2, relatedness="unlikely", **NAUSEA)
    make_adverse_event(subject=grade2, onset_date=date(2026, 6, 7), grade=2, relatedness="definitely", **NAUSEA)
    make_adverse_event(subject=quiet, onset_date=D29, grade=2, relatedness="probably", **NAUSEA)

    with django_assert_max_num_queries(3):
        facts = selectors.dlt_facts(subject.pk for subject in subjects)

    assert facts == {
        confirmed.pk: SubjectDltFacts(dlt_confirmed=True, related_grade2=True, unadjudicated_candidates=0),
        pending.pk: SubjectDltFacts(dlt_confirmed=False, related_grade2=True, unadjudicated_candidates=1),
        grade2.pk: SubjectDltFacts(dlt_confirmed=False, related_grade2=True, unadjudicated_candidates=0),
        quiet.pk: SubjectDltFacts(dlt_confirmed=False, related_grade2=False, unadjudicated_candidates=0),
    }


def test_subjects_without_adverse_events_are_absent(dosed, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert selectors.dlt_facts([dosed.pk]) == {}


def test_a_corrected_d0_flags_the_subjects_aes_again(dosed):
    ae = make_adverse_event(subject=dosed, onset_date=D28, grade=3, **NAUSEA)
    infusion = dosed.infusion
    infusion.started_at = datetime(2026, 5, 31, 23, 0, tzinfo=UTC)  # D0 = 1 June in Shanghai
    infusion.ended_at = infusion.started_at + timedelta(minutes=30)
    save_audited(infusion, actor=system_actor(), reason="Infusion date corrected")

    services.visit_schedule_shift(actor=system_actor(), infusion=infusion, reason="Infusion date corrected")

    assert flagged(ae) == (False, "")
    assert DltAssessment.objects.get(adverse_event=ae).flag_reason == "onset D29 is outside the DLT window D0…D28"
