"""A small trial that can grow: the role-matrix world (two sites, a dosed subject at each, seven users), level 1
open, an SRC decision, and `grow(world, n)` adding n subjects of each kind at each site (dosed with visits and an
AE that is a DLT candidate, enrolled with an infusion plan whose D−1 is today, in screening)."""

from datetime import UTC, date, datetime, timedelta

import time_machine

from ctit_trial.audit import save_audited, system_actor
from dosing.models import DoseLevel, DoseSlot, InfusionPlan, SrcDecision
from enrollment.services import subject_status_change
from safety.models import Visit
from tests.core.role_matrix_world import CONSENT_AT, SCREENING_AT, World, build_world
from tests.enrollment.documents import APPENDIX_A
from tests.factories import (
    make_adverse_event,
    make_consent,
    make_infusion,
    make_screening,
    make_subject,
    raise_slot_ceiling,
    set_open_level,
)

NOW = datetime(2026, 3, 20, 4, 0, tzinfo=UTC)  # noon on 20 March in Shanghai: D−1 today for the plans below
TODAY = date(2026, 3, 20)
FIRST_GROWN_INFUSION = datetime(2026, 3, 11, 1, 0, tzinfo=UTC)


def build_small_world() -> World:
    """The role-matrix world, level 1 open, an SRC decision, and one subject of each kind at each site."""
    world = build_world()
    set_open_level(1)
    world.objects["src_decision"] = _src_decision(world)
    world.grown = 0
    grow(world, 1)
    world.objects["planned_subject"] = InfusionPlan.objects.order_by("pk").first().subject
    return world


def grow(world: World, per_site: int) -> None:
    """Add `per_site` dosed, enrolled (planned) and screening subjects at each site."""
    for site in world.sites.values():
        for _ in range(per_site):
            _dosed(site, infused_at=FIRST_GROWN_INFUSION + timedelta(hours=world.grown))
            _planned(site)
            _screened(site)
            world.grown += 1


def _screened(site):
    with time_machine.travel(CONSENT_AT, tick=False):
        subject = make_subject(site=site)
        make_consent(subject=subject, signed_at=CONSENT_AT)
    with time_machine.travel(SCREENING_AT, tick=False):
        make_screening(subject=subject, document=APPENDIX_A)
    return subject


def _dosed(site, *, infused_at: datetime) -> None:
    from tests.factories import make_visit_schedule

    subject = _screened(site)
    infusion = make_infusion(subject=subject, level=1, started_at=infused_at)
    with time_machine.travel(infused_at + timedelta(days=3), tick=False):
        visits = make_visit_schedule(infusion=infusion)
        nausea = {"term": None, "other_term": "Nausea", "other_meddra_code": "10028813"}
        onset = site.local_date(infused_at) + timedelta(days=2)
        make_adverse_event(subject=subject, onset_date=onset, grade=3, **nausea)
    done = visits[1]
    done.status, done.visit_date, done.platelets = Visit.Status.DONE, done.target_date, 80
    save_audited(done, actor=system_actor(), reason="test set-up: visit recorded")


def _planned(site) -> None:
    subject = _screened(site)
    actor, level = system_actor(), DoseLevel.objects.get(level=1)
    subject_status_change(actor=actor, subject=subject, to="enrolled", reason="test set-up", enrolled_at=NOW)
    raise_slot_ceiling(level)
    slot = DoseSlot(dose_level=level, subject=subject, claimed_at=NOW - timedelta(days=2))
    save_audited(slot, actor=actor, reason="test set-up")
    planned_at = datetime(2026, 3, 21, 1, 0, tzinfo=UTC)  # 09:00 on 21 March in Shanghai: D−1 is today
    plan = InfusionPlan(slot=slot, subject=subject, planned_at=planned_at, d_minus_1=TODAY)
    save_audited(plan, actor=actor, reason="test set-up")


def _src_decision(world: World) -> SrcDecision:
    member = world.users["src_a"]
    decision = SrcDecision.objects.create(
        protocol=DoseLevel.objects.get(level=1).protocol,
        meeting_date=TODAY,
        data_cutoff=NOW,
        dose_path="1P",
        recommended_action="hold",
        recommendation_reason="test set-up",
        decision=SrcDecision.Kind.EXPAND,
        dose_level=1,
        rationale="test set-up",
        recorded_by=member,
        recorded_at=NOW,
    )
    decision.members_present.set([member, world.users["monitor"]])
    return decision
