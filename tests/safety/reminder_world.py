"""A small trial for the reminder tests: sites in Shanghai and Berlin, each role with its own address."""

from dataclasses import dataclass
from datetime import timedelta

from django.core.management import call_command

from ctit_trial.audit import save_audited, system_actor
from dosing.models import DoseLevel, DoseSlot, InfusionPlan
from enrollment.models import Site, Subject
from enrollment.roles import INVESTIGATOR, SPONSOR_SAFETY, SRC_MEMBER, STUDY_COORDINATOR
from tests.factories import make_site, make_staff_user, make_subject, raise_slot_ceiling


@dataclass
class World:
    shanghai: Site
    berlin: Site
    users: dict


def staff(key: str, role_key: str, sites, email: str):
    user = make_staff_user(role_key=role_key, sites=sites, username=key)
    user.email, user.first_name, user.last_name = email, key.split("-")[0].title(), "Tester"
    user.save(update_fields=["email", "first_name", "last_name"])
    return user


def build_world() -> World:
    """The seeded protocol; site BJ01 (Asia/Shanghai) and BE01 (Europe/Berlin) with their teams, sponsor, SRC."""
    call_command("seed", verbosity=0)
    shanghai = make_site(code="BJ01", name="Beijing", time_zone="Asia/Shanghai")
    berlin = make_site(code="BE01", name="Berlin", time_zone="Europe/Berlin")
    users = {
        "coordinator-bj": staff("coordinator-bj", STUDY_COORDINATOR, [shanghai], "coordinator.bj@example.org"),
        "investigator-bj": staff("investigator-bj", INVESTIGATOR, [shanghai], "investigator.bj@example.org"),
        "coordinator-be": staff("coordinator-be", STUDY_COORDINATOR, [berlin], "coordinator.be@example.org"),
        "investigator-be": staff("investigator-be", INVESTIGATOR, [berlin], "investigator.be@example.org"),
        "sponsor": staff("sponsor", SPONSOR_SAFETY, [], "sponsor@example.org"),
        "src": staff("src", SRC_MEMBER, [shanghai, berlin], "src@example.org"),
        "monitor-no-mail": staff("monitor-no-mail", STUDY_COORDINATOR, [shanghai], ""),
    }
    return World(shanghai, berlin, users)


def enrolled_subject(site: Site) -> Subject:
    """A subject enrolled at a site (test set-up: the enrollment service is tested elsewhere)."""
    subject = make_subject(site=site)
    subject.status, subject.enrolled_at = Subject.Status.ENROLLED, subject.created_at
    save_audited(subject, actor=system_actor(), reason="test set-up")
    return subject


def make_plan(subject: Subject, planned_at) -> InfusionPlan:
    """A claimed level 1 slot and a scheduled infusion plan with its site-local D−1 (test set-up)."""
    actor = system_actor()
    dose_level = DoseLevel.objects.get(level=1)
    raise_slot_ceiling(dose_level)
    slot = DoseSlot(dose_level=dose_level, subject=subject, claimed_at=planned_at - timedelta(days=9))
    save_audited(slot, actor=actor, reason="test set-up")
    d_minus_1 = subject.site.local_date(planned_at) - timedelta(days=1)
    plan = InfusionPlan(slot=slot, subject=subject, planned_at=planned_at, d_minus_1=d_minus_1)
    save_audited(plan, actor=actor, reason="test set-up")
    return plan


def move_plan(plan: InfusionPlan, planned_at) -> InfusionPlan:
    """Reschedule as the dosing service does: new instant, new site-local D−1, then the reminder hook."""
    from safety import services

    plan.planned_at = planned_at
    plan.d_minus_1 = plan.subject.site.local_date(planned_at) - timedelta(days=1)
    save_audited(plan, actor=system_actor(), reason="test set-up: rescheduled")
    services.notifications_cancel_for_subject(subject=plan.subject, reason="Infusion rescheduled")
    return plan


def set_status(subject: Subject, status: str) -> Subject:
    subject.status = status
    save_audited(subject, actor=system_actor(), reason="test set-up")
    return subject
