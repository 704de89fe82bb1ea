"""Lab results graded by CTCAE v5.0: one AE per term per episode, worst grade kept, closed when no longer graded."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from ctit_trial.errors import InvalidInput
from safety import services
from safety.models import AdverseEvent, DltAssessment
from tests.factories import make_infusion, make_site_member, make_subject

pytestmark = pytest.mark.django_db
INFUSED_AT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # D0 = 2 June in Shanghai


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(datetime(2026, 6, 20, 2, 0, tzinfo=UTC), tick=False)


@pytest.fixture
def dosed(site_a):
    call_command("seed", verbosity=0)
    return make_infusion(subject=make_subject(site=site_a), level=1, started_at=INFUSED_AT).subject


@pytest.fixture
def alt(dosed):
    """alt(value, day) grades an ALT result (ULN 40 U/L, normal baseline 30) drawn on that June day."""
    member = make_site_member(site=dosed.site, role_key="study_coordinator")

    def grade(value: str, day: int):
        return services.lab_result_grade(
            actor=member,
            subject=dosed,
            analyte="alt_increased",
            value=Decimal(value),
            unit="U/L",
            uln=Decimal(40),
            baseline=Decimal(30),
            baseline_reason="Normal baseline confirmed by the investigator",
            observed_on=date(2026, 6, day),
        )

    return grade


def test_an_episode_opens_worsens_keeps_its_worst_grade_and_closes(alt):
    opened = alt("121", 4)
    worse = alt("201", 6)
    better = alt("130", 8)
    closed = alt("35", 11)
    again = alt("125", 15)

    assert [(r.grade, r.action) for r in (opened, worse, better, closed, again)] == [
        (2, "created"),
        (3, "worsened"),
        (2, "unchanged"),
        (None, "closed"),
        (2, "created"),
    ]
    first = AdverseEvent.objects.get(pk=opened.adverse_event.pk)
    assert (first.grade, first.onset_date, first.end_date, first.ongoing) == (
        3,
        date(2026, 6, 4),
        date(2026, 6, 11),
        False,
    )
    assert (first.source, first.verbatim_term, first.outcome, first.lab_resolved_within_days) == (
        "lab",
        "Alanine aminotransferase increased",
        "recovered",
        7,
    )
    assert [h.history_change_reason for h in first.history.all()][::-1] == [
        "Graded from the lab result of 2026-06-04: Alanine aminotransferase increased 121: "
        "> 120 (3.0×ULN 40) → grade 2",
        "Lab result of 2026-06-06: grade 2 → 3 (Alanine aminotransferase increased 201: > 200 (5.0×ULN 40) → grade 3)",
        "Lab result of 2026-06-11 no longer graded (Alanine aminotransferase increased 35: "
        "not > 40 (1.0×ULN 40) (grade 1) → not graded): episode closed",
    ]
    assert AdverseEvent.objects.filter(source="lab", ongoing=True).count() == 1


def test_an_unassessed_grade_3_lab_ae_in_the_window_is_a_candidate_until_assessed(alt):
    ae = alt("201", 6).adverse_event

    assessment = DltAssessment.objects.get(adverse_event=ae)

    assert (ae.relatedness, assessment.is_candidate, assessment.rule) == ("", True, "non_hematologic")
    assert assessment.flag_reason == (
        "grade 3 non-hematologic AE; related; onset D4; "
        "relatedness not yet assessed: counted as related until the investigator assesses it"
    )


def test_a_value_in_range_with_no_open_episode_creates_nothing(alt):
    result = alt("39", 4)

    assert (result.grade, result.action, result.adverse_event) == (None, "none", None)
    assert AdverseEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"analyte": "serum_magic"}, "analyte", "Unknown lab analyte 'serum_magic': give a CTCAE lab term code."),
        ({"analyte": "fever"}, "analyte", "Fever is not graded from a lab value."),
        ({"uln": None}, "uln", "Alanine aminotransferase increased needs the ULN to grade this value."),
        (
            {"observed_on": date(2026, 6, 21)},
            "observed_on",
            "A lab result cannot be observed in the future (today is 2026-06-20).",
        ),
    ],
)
def test_bad_lab_input_names_the_field(dosed, changes, field, message):
    values = {
        "analyte": "alt_increased",
        "value": Decimal(121),
        "unit": "U/L",
        "uln": Decimal(40),
        "observed_on": date(2026, 6, 4),
    }
    member = make_site_member(site=dosed.site)

    with pytest.raises(InvalidInput) as refused:
        services.lab_result_grade(actor=member, subject=dosed, **{**values, **changes})

    assert refused.value.errors == {field: [message]}
    assert AdverseEvent.objects.count() == 0


def test_platelets_are_graded_against_the_lln(dosed):
    member = make_site_member(site=dosed.site)

    result = services.lab_result_grade(
        actor=member,
        subject=dosed,
        analyte="platelet_count_decreased",
        value=Decimal(24),
        unit="10^9/L",
        lln=Decimal(100),
        observed_on=date(2026, 6, 4),
    )

    assert (result.grade, result.adverse_event.grade, result.ctcae_version) == (4, 4, "5.0")
    assert DltAssessment.objects.get(adverse_event=result.adverse_event).is_candidate is False  # hematologic
