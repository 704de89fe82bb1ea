"""The visit schedule in site-local days: creation from the infusion, shifts, recording, deviations, overdue."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from ctit_trial.audit import REASON_REQUIRED, save_audited, system_actor
from ctit_trial.errors import Conflict, InvalidInput, PermissionDenied
from safety import selectors, services
from safety.models import Visit
from tests.factories import make_infusion, make_site_member, make_subject, make_visit_schedule

pytestmark = pytest.mark.django_db
# 07:00 on 2 June in Shanghai is 23:00 UTC on 1 June: D0 is 2 June, not 1 June.
INFUSED_AT = datetime(2026, 6, 1, 23, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock(time_machine):
    """clock(instant): stop the clock there; it starts at 08:00 on D0 in Shanghai, before any row is written."""
    time_machine.move_to(datetime(2026, 6, 2, 0, 0, tzinfo=UTC), tick=False)
    return lambda instant: time_machine.move_to(instant, tick=False)


@pytest.fixture
def infusion(site_a):
    call_command("seed", verbosity=0)
    return make_infusion(subject=make_subject(site=site_a), level=1, started_at=INFUSED_AT)


@pytest.fixture
def scheduled(infusion):
    make_visit_schedule(infusion=infusion)
    return {visit.definition.code: visit for visit in selectors.visits_of(infusion.subject)}


@pytest.fixture
def member(site_a):
    return make_site_member(site=site_a, role_key="study_coordinator")


def record(visit, member, on, **extra):
    values = {"visit_date": on, "platelets": Decimal("72"), "ae_review_done": True, **extra}
    return services.visit_record(actor=member, visit=visit, **values)


def test_schedule_counts_days_in_shanghai_across_the_utc_day_boundary(infusion):
    created = make_visit_schedule(infusion=infusion)

    assert [(v.definition.code, v.target_date, v.window_earliest, v.window_latest) for v in created] == [
        ("D0", date(2026, 6, 2), date(2026, 6, 2), date(2026, 6, 2)),
        ("D2", date(2026, 6, 4), date(2026, 6, 4), date(2026, 6, 4)),
        ("D3", date(2026, 6, 5), date(2026, 6, 5), date(2026, 6, 5)),
        ("D7", date(2026, 6, 9), date(2026, 6, 8), date(2026, 6, 10)),
        ("D14", date(2026, 6, 16), date(2026, 6, 14), date(2026, 6, 18)),
        ("D28", date(2026, 6, 30), date(2026, 6, 30), date(2026, 7, 2)),
        ("D30", date(2026, 7, 2), date(2026, 7, 2), date(2026, 7, 5)),
    ]
    assert {v.status for v in created} == {Visit.Status.PLANNED}
    assert (
        created[0].history.first().history_change_reason == "Visit schedule created from the infusion (D0 = 2026-06-02)"
    )


def test_schedule_is_idempotent(infusion):
    first = make_visit_schedule(infusion=infusion)
    second = make_visit_schedule(infusion=infusion)

    assert (len(first), second, Visit.objects.count(), Visit.history.count()) == (7, [], 7, 7)


def test_out_of_window_visit_is_recorded_and_flagged_not_refused(scheduled, member, clock):
    clock(datetime(2026, 6, 11, 4, 0, tzinfo=UTC))
    visit = record(scheduled["D7"], member, date(2026, 6, 11))

    assert (visit.status, visit.visit_date, visit.deviation) == ("done", date(2026, 6, 11), True)
    assert visit.deviation_reason == (
        "Out of window: 2026-06-11 is 1 day(s) after the D7 window 2026-06-08…2026-06-10 (D7 −1/+1)."
    )
    assert visit.history.first().history_change_reason == "Visit recorded; protocol deviation"


def test_early_and_in_window_visits(scheduled, member, clock):
    clock(datetime(2026, 6, 11, 4, 0, tzinfo=UTC))
    early = record(scheduled["D14"], member, date(2026, 6, 11))
    on_edge = record(scheduled["D7"], member, date(2026, 6, 8))

    assert early.deviation_reason == (
        "Out of window: 2026-06-11 is 3 day(s) before the D14 window 2026-06-14…2026-06-18 (D14 −2/+2)."
    )
    assert (on_edge.deviation, on_edge.deviation_reason) == (False, "")


def test_a_recorded_visit_is_corrected_only_with_a_reason(scheduled, member, clock):
    clock(datetime(2026, 6, 11, 4, 0, tzinfo=UTC))
    record(scheduled["D7"], member, date(2026, 6, 9))

    with pytest.raises(InvalidInput) as refused:
        record(scheduled["D7"], member, date(2026, 6, 9), platelets=Decimal("80"))
    corrected = record(scheduled["D7"], member, date(2026, 6, 9), platelets=Decimal("80"), reason="Lab re-read")

    assert refused.value.errors == {"reason": [REASON_REQUIRED]}
    assert corrected.platelets == Decimal("80")
    assert [h.history_change_reason for h in corrected.history.all()[:2]] == ["Lab re-read", "Visit recorded"]


def test_a_future_visit_date_or_negative_count_names_the_field_and_saves_nothing(scheduled, member, clock):
    clock(datetime(2026, 6, 8, 15, 59, tzinfo=UTC))  # 23:59 on 8 June in Shanghai
    with pytest.raises(InvalidInput) as refused:
        record(scheduled["D7"], member, date(2026, 6, 9), platelets=Decimal("-1"))

    assert refused.value.errors == {
        "visit_date": ["The visit date cannot be in the future (today at BJ01 is 2026-06-08)."],
        "platelets": ["A platelet count cannot be negative."],
    }
    assert Visit.objects.get(pk=scheduled["D7"].pk).status == Visit.Status.PLANNED


def test_only_staff_of_the_site_record_visits(scheduled, site_b):
    outsider = make_site_member(site=site_b)

    with pytest.raises(PermissionDenied, match="You are not a member of site BJ01."):
        record(scheduled["D0"], outsider, date(2026, 6, 2))


def test_overdue_visits_are_those_whose_window_closed_unrecorded(scheduled, member, site_a, clock):
    clock(datetime(2026, 6, 11, 4, 0, tzinfo=UTC))
    record(scheduled["D0"], member, date(2026, 6, 2))
    record(scheduled["D2"], member, date(2026, 6, 4))

    on_last_day_of_d7 = selectors.visits_overdue(site=site_a, today=date(2026, 6, 10))
    day_after = selectors.visits_overdue(site=site_a, today=date(2026, 6, 11))

    assert [v.definition.code for v in on_last_day_of_d7] == ["D3"]
    assert [v.definition.code for v in day_after] == ["D3", "D7"]


def test_a_visit_is_missed_once_its_window_closed_and_may_still_be_recorded_late(scheduled, member, site_a, clock):
    clock(datetime(2026, 6, 11, 4, 0, tzinfo=UTC))
    not_closed = r"The D14 window \(2026-06-\d\d…2026-06-18\) has not closed: a visit is missed only once"
    with pytest.raises(Conflict, match=not_closed):
        services.visit_mark_missed(actor=member, visit=scheduled["D14"], reason="Subject unreachable")
    missed = services.visit_mark_missed(actor=member, visit=scheduled["D3"], reason="Subject unreachable")
    overdue = [v.definition.code for v in selectors.visits_overdue(site=site_a, today=date(2026, 6, 11))]
    late = record(scheduled["D3"], member, date(2026, 6, 6), reason="Visit took place a day late")

    assert missed.status == Visit.Status.MISSED
    assert "D3" not in overdue
    assert (late.status, late.deviation) == (Visit.Status.DONE, True)


def test_shift_moves_the_planned_visits_and_the_d0_visit_with_the_infusion_day(scheduled, infusion, member, clock):
    clock(datetime(2026, 6, 3, 4, 0, tzinfo=UTC))
    record(scheduled["D0"], member, date(2026, 6, 2))
    infusion.started_at = datetime(2026, 6, 3, 1, 0, tzinfo=UTC)  # corrected: 09:00 on 3 June in Shanghai
    infusion.ended_at = infusion.started_at + timedelta(minutes=30)
    save_audited(infusion, actor=system_actor(), reason="Infusion time corrected")

    with pytest.raises(InvalidInput):
        services.visit_schedule_shift(actor=system_actor(), infusion=infusion, reason="")
    moved = services.visit_schedule_shift(actor=system_actor(), infusion=infusion, reason="Infusion time corrected")

    visits = {v.definition.code: v for v in selectors.visits_of(infusion.subject)}
    assert [v.definition.code for v in moved] == ["D0", "D2", "D3", "D7", "D14", "D28", "D30"]
    assert visits["D0"].target_date == date(2026, 6, 3)  # the infusion day itself, recorded or not
    assert (visits["D7"].target_date, visits["D7"].window_earliest, visits["D7"].window_latest) == (
        date(2026, 6, 10),
        date(2026, 6, 9),
        date(2026, 6, 11),
    )
    assert visits["D7"].history.first().history_change_reason == "Infusion time corrected"
