"""The database refuses ORM writes that break a dosing invariant (dosing/migrations/0007; PostgreSQL only)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from ctit_trial.audit import save_audited, system_actor
from dosing import services
from dosing.models import DoseLevel, DoseSlot, Infusion
from enrollment.models import Subject
from tests.factories import make_infusion, make_subject, raise_slot_ceiling, set_open_level

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def level(number: int) -> DoseLevel:
    return DoseLevel.objects.get(level=number)


def claimed_slot(subject: Subject, dose_level: DoseLevel) -> DoseSlot:
    """A claimed slot written directly, with the ceiling raised for it as `slot_claim` would."""
    raise_slot_ceiling(dose_level)
    slot = DoseSlot(dose_level=dose_level, subject=subject, claimed_at=NOW)
    save_audited(slot, actor=system_actor(), reason="test set-up")
    return slot


def copy_of(infusion: Infusion, **changes) -> Infusion:
    """A second infusion row with another infusion's values, some changed (ids by attname: slot_id, …)."""
    values = {field.attname: getattr(infusion, field.attname) for field in Infusion._meta.concrete_fields}
    del values["id"]
    return Infusion(**(values | changes))


def check_deferred_now() -> None:
    """Run the deferred constraint triggers now instead of at the commit the test transaction never reaches."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def refused(message: str):
    return pytest.raises(IntegrityError, match=re.escape(message))


def set_status(subject: Subject, status: str) -> None:
    subject.status, subject.enrolled_at = status, NOW
    save_audited(subject, actor=system_actor(), reason="test set-up")


# --- the ceiling that slot_claim records


@time_machine.travel(NOW, tick=False)
def test_slot_claim_at_trial_start_sets_the_ceiling_to_one(trial):
    services.dose_level_open_first(actor=system_actor(), reason="Trial start")

    services.slot_claim(actor=system_actor(), subject=make_subject(site=trial))

    first = level(1)
    assert first.slot_ceiling == 1
    assert first.history.latest("history_id").history_change_reason == "Slot ceiling 1 at L1 on a claim"


@time_machine.travel(NOW, tick=False)
def test_slot_claim_at_an_escalated_level_sets_the_ceiling_to_the_cohort_of_three(trial):
    set_open_level(1)
    make_infusion(subject=make_subject(site=trial), level=1, started_at=NOW - timedelta(days=40))  # path "1N"
    set_open_level(2)

    services.slot_claim(actor=system_actor(), subject=make_subject(site=trial))

    assert (level(1).slot_ceiling, level(2).slot_ceiling) == (1, 3)


# --- capacity


def test_a_slot_beyond_the_ceiling_is_refused(trial):
    first = level(1)
    claimed_slot(make_subject(site=trial), first)  # ceiling 1, one slot

    with refused("dose level capacity exceeded: 2 claimed-or-dosed slots at dose level id"), transaction.atomic():
        DoseSlot.objects.create(dose_level=first, subject=make_subject(site=trial), claimed_at=NOW)

    assert DoseSlot.objects.count() == 1


def test_a_released_slot_taken_again_beyond_the_ceiling_is_refused(trial):
    first, subject = level(1), make_subject(site=trial)
    released = claimed_slot(subject, first)
    released.status, released.released_at = DoseSlot.Status.RELEASED, NOW
    released.save()
    claimed_slot(make_subject(site=trial), first)  # the ceiling stays 1: one live slot

    released.status, released.released_at = DoseSlot.Status.CLAIMED, None
    with refused("(slot_ceiling 1)"), transaction.atomic():
        released.save()


def test_a_slot_moved_to_a_full_level_is_refused(trial):
    slot = claimed_slot(make_subject(site=trial), level(1))
    claimed_slot(make_subject(site=trial), level(2))  # level 2: ceiling 1, full

    slot.dose_level = level(2)
    with refused(f"2 claimed-or-dosed slots at dose level id {level(2).pk} (slot_ceiling 1)"), transaction.atomic():
        slot.save()


# --- an infusion is at its slot's level and of its slot's subject


def test_an_infusion_at_another_level_than_its_slot_is_refused(trial):
    infusion = make_infusion(subject=make_subject(site=trial), level=1, started_at=NOW)
    other = make_subject(site=trial)
    slot = claimed_slot(other, level(1))

    at_level_2 = copy_of(infusion, slot_id=slot.pk, subject_id=other.pk, dose_level_id=level(2).pk)
    with refused("infusion dose level differs from its slot's"), transaction.atomic():
        at_level_2.save()

    infusion.dose_level = level(2)
    message = f"dose level id {level(2).pk} for slot {infusion.slot_id} at dose level id {level(1).pk}"
    with refused(message), transaction.atomic():
        infusion.save()


def test_an_infusion_of_another_subject_than_its_slot_is_refused(trial):
    infusion = make_infusion(subject=make_subject(site=trial), level=1, started_at=NOW)
    slot, stranger = claimed_slot(make_subject(site=trial), level(1)), make_subject(site=trial)

    message = f"infusion subject differs from its slot's: subject id {stranger.pk} for slot {slot.pk}"
    with refused(message), transaction.atomic():
        copy_of(infusion, slot_id=slot.pk, subject_id=stranger.pk).save()

    assert Infusion.objects.count() == 1


@pytest.mark.parametrize("change", ["dose_level", "subject"])
def test_an_infused_slot_keeps_its_level_and_subject(trial, change):
    infusion = make_infusion(subject=make_subject(site=trial), level=1, started_at=NOW)
    slot = infusion.slot
    raise_slot_ceiling(level(2))
    if change == "dose_level":
        slot.dose_level = level(2)
    else:
        slot.subject = make_subject(site=trial)

    message = f"infused slot keeps its dose level and subject: slot {slot.pk} has an infusion"
    with refused(message), transaction.atomic():
        slot.save()


# --- "dosed" only with an infusion (deferred to the commit)


def test_a_dosed_slot_without_an_infusion_is_refused(trial):
    dose_level = level(1)
    raise_slot_ceiling(dose_level)

    with refused("dosed slot without an infusion: slot"), transaction.atomic():
        DoseSlot.objects.create(
            dose_level=dose_level, subject=make_subject(site=trial), status=DoseSlot.Status.DOSED, claimed_at=NOW
        )
        check_deferred_now()

    assert not DoseSlot.objects.exists()


@pytest.mark.parametrize("status", [Subject.Status.DOSED, Subject.Status.COMPLETED])
def test_a_dosed_or_completed_subject_without_an_infusion_is_refused(trial, status):
    subject = make_subject(site=trial)

    message = f"dosed subject without an infusion: subject {subject.pk} is dosed or completed and has no infusion"
    with refused(message), transaction.atomic():
        set_status(subject, status)
        check_deferred_now()


def test_deleting_the_infusion_of_a_dosed_subject_is_refused(trial):
    subject = make_subject(site=trial)
    infusion = make_infusion(subject=subject, level=1, started_at=NOW)
    set_status(subject, Subject.Status.DOSED)
    check_deferred_now()  # the dosed slot and subject have their infusion

    with refused(f"dosed slot without an infusion: slot {infusion.slot_id}"), transaction.atomic():
        infusion.delete()
        check_deferred_now()

    assert Infusion.objects.filter(subject=subject).exists()


@pytest.mark.django_db(transaction=True)
def test_a_subject_marked_dosed_without_an_infusion_fails_at_commit(trial):
    subject = make_subject(site=trial)

    with refused(f"dosed subject without an infusion: subject {subject.pk}"), transaction.atomic():
        set_status(subject, Subject.Status.DOSED)  # accepted here: the check waits for the commit

    assert Subject.objects.get(pk=subject.pk).status == Subject.Status.SCREENING


@pytest.mark.django_db(transaction=True)
def test_the_service_path_claims_infuses_and_commits(infused):
    # given: enrolment (slot_claim), the plan, D−1, D0 and the infusion through the API, each committed
    infusion = Infusion.objects.get(subject=infused)

    # then: every row the triggers check is in place
    assert (infusion.dose_level.level, infusion.dose_level.slot_ceiling) == (1, 1)
    assert (infusion.slot.subject_id, infusion.slot.status) == (infused.pk, DoseSlot.Status.DOSED)
    assert Subject.objects.get(pk=infused.pk).status == Subject.Status.DOSED
