"""Slot claims at the open dose level: engine capacity, sentinel rule, release, and no over-enrollment."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from threading import Barrier

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from ctit_trial.audit import system_actor
from ctit_trial.errors import Conflict
from dosing import selectors, services
from dosing.models import DoseLevel, DoseSlot, Infusion
from enrollment.selectors import protocol_current
from tests.factories import make_infusion, make_subject, set_open_level

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.fixture
def trial(db, site_a):
    call_command("seed", verbosity=0)
    return site_a


def claim(subject):
    return services.slot_claim(actor=system_actor(), subject=subject)


@time_machine.travel(NOW, tick=False)
def test_no_open_level_refuses(trial):
    with pytest.raises(Conflict, match="No dose level is open for enrollment."):
        claim(make_subject(site=trial))


@time_machine.travel(NOW, tick=False)
def test_first_level_takes_one_subject_for_accelerated_titration(trial):
    services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    first, second = make_subject(site=trial), make_subject(site=trial)

    slot = claim(first)
    with pytest.raises(Conflict) as refused:
        claim(second)

    assert (slot.dose_level.level, slot.status) == (1, DoseSlot.Status.CLAIMED)
    assert refused.value.message == (
        "Level 1 has no free slot: the engine allows 1 more subject(s) and 1 already hold a slot."
    )


@time_machine.travel(NOW, tick=False)
def test_a_subject_holds_one_slot_at_most(trial):
    services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    subject = make_subject(site=trial)
    claim(subject)

    with pytest.raises(Conflict, match="already holds a dose slot"):
        claim(subject)


@time_machine.travel(NOW, tick=False)
def test_escalation_needs_an_src_decision_before_more_claims(trial):
    set_open_level(1)
    make_infusion(subject=make_subject(site=trial), level=1, started_at=NOW - timedelta(days=40))

    with pytest.raises(Conflict) as refused:
        claim(make_subject(site=trial))

    assert refused.value.message.startswith("The engine recommends dosing level 2")
    assert refused.value.message.endswith("a signed SRC decision must change the open level first.")


@time_machine.travel(NOW, tick=False)
def test_hold_while_the_titration_subject_is_in_the_window(trial):
    set_open_level(1)
    make_infusion(subject=make_subject(site=trial), level=1, started_at=NOW - timedelta(days=3))

    with pytest.raises(Conflict, match=r"does not allow enrollment now \(hold\)"):
        claim(make_subject(site=trial))


@time_machine.travel(NOW, tick=False)
def test_sentinel_rule_allows_one_claim_until_the_first_subject_is_dosed(trial):
    set_open_level(1)
    make_infusion(subject=make_subject(site=trial), level=1, started_at=NOW - timedelta(days=40))
    set_open_level(2)

    claim(make_subject(site=trial))
    with pytest.raises(Conflict) as refused:
        claim(make_subject(site=trial))

    assert refused.value.message == (
        "Level 2 is in sentinel dosing: the first subject there must be dosed and observed 14 days before the next one."
    )


@time_machine.travel(NOW, tick=False)
def test_released_slot_is_free_again(trial):
    services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    slot = claim(make_subject(site=trial))

    services.slot_release(actor=system_actor(), slot=slot, reason="D−1 platelets 42: screen failure")
    replacement = claim(make_subject(site=trial))

    slot.refresh_from_db()
    assert (slot.status, slot.release_reason) == (DoseSlot.Status.RELEASED, "D−1 platelets 42: screen failure")
    assert replacement.status == DoseSlot.Status.CLAIMED


def test_release_needs_a_reason(trial):
    services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    slot = claim(make_subject(site=trial))

    with pytest.raises(Exception, match="A reason for change is required"):
        services.slot_release(actor=system_actor(), slot=slot, reason=" ")


def test_only_level_one_opens_without_an_src_decision(trial):
    services.dose_level_open_first(actor=system_actor(), reason="Trial start")

    with pytest.raises(Conflict, match="only a signed SRC decision can open a level"):
        services.dose_level_open_first(actor=system_actor(), reason="again")

    assert list(DoseLevel.objects.values_list("level", "status")) == [(1, "open"), (2, "not_open"), (3, "not_open")]


@time_machine.travel(NOW, tick=False)
def test_earliest_dosing_respects_the_24_hour_gap_and_the_sentinel(trial):
    set_open_level(1)
    make_infusion(subject=make_subject(site=trial), level=1, started_at=NOW - timedelta(days=40))
    set_open_level(2)
    level_two = DoseLevel.objects.get(level=2)
    sentinel = make_infusion(subject=make_subject(site=trial), level=2, started_at=NOW - timedelta(hours=2))

    earliest = selectors.earliest_dosing_at(level_two, now=NOW)

    assert earliest == sentinel.started_at + timedelta(days=14)
    assert selectors.earliest_dosing_at(DoseLevel.objects.get(level=1), now=NOW) == sentinel.started_at + timedelta(
        hours=24
    )


@time_machine.travel(NOW, tick=False)
def test_non_evaluable_subject_is_replaced(trial):
    set_open_level(1)
    make_infusion(subject=make_subject(site=trial), level=1, started_at=NOW - timedelta(days=40))
    set_open_level(2)
    make_infusion(
        subject=make_subject(site=trial), level=2, started_at=NOW - timedelta(days=20), early_stop="non_toxicity"
    )

    recommendation = selectors.recommendation(protocol_current(), now=NOW)

    assert recommendation.path == "1N 2X"
    assert (recommendation.decision.action, recommendation.decision.subjects) == ("enroll", 3)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_claims_for_three_free_slots(site_a):
    # given: "1N 2X" at level 2, sentinel dosed: the engine allows 3 more subjects there
    call_command("seed", verbosity=0)
    start = datetime.now(UTC)
    set_open_level(1)
    make_infusion(subject=make_subject(site=site_a), level=1, started_at=start - timedelta(days=40))
    set_open_level(2)
    make_infusion(
        subject=make_subject(site=site_a), level=2, started_at=start - timedelta(days=20), early_stop="non_toxicity"
    )
    subjects = [make_subject(site=site_a) for _ in range(20)]
    barrier = Barrier(len(subjects))

    def attempt(subject):
        barrier.wait()
        try:
            claim(subject)
            return "claimed"
        except Conflict:
            return "refused"
        finally:
            connection.close()

    # when
    with ThreadPoolExecutor(max_workers=len(subjects)) as pool:
        outcomes = list(pool.map(attempt, subjects))

    # then
    assert outcomes.count("claimed") == 3
    assert outcomes.count("refused") == 17
    assert DoseSlot.objects.filter(dose_level__level=2, status="claimed").count() == 3
    assert Infusion.objects.count() == 2


@time_machine.travel(NOW, tick=False)
def test_subjects_filter_by_dose_level(trial, api_client_for):
    from enrollment.roles import MONITOR

    set_open_level(1)
    first = make_infusion(subject=make_subject(site=trial), level=1, started_at=NOW - timedelta(days=40)).subject
    set_open_level(2)
    second = make_infusion(subject=make_subject(site=trial), level=2, started_at=NOW - timedelta(days=3)).subject
    client = api_client_for(MONITOR)

    level_one = client.get("/api/v1/subjects/?dose_level=1").json()["results"]
    level_two = client.get("/api/v1/subjects/?dose_level=2").json()["results"]

    assert [row["study_number"] for row in level_one] == [first.study_number]
    assert [row["study_number"] for row in level_two] == [second.study_number]
