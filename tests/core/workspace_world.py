"""One trial for the casebook and today's-work tests, built through the services at the times the acts happened.

Now is 12 June 2026, 10:00 in Beijing. Site BJ01 (Asia/Shanghai): S-BJ01-001 was infused on 31 May at 09:00
(D12 today): draws, D2 and D3 recorded, a lab result, a related fever, D7 never recorded (overdue), D14's window
open today, and a serious allergic reaction the site learnt of 13 hours ago (a DLT candidate, its SAE clock
running). S-BJ01-002 is enrolled with D−1 today. Site DEMO2 (Europe/Berlin): S-DEMO2-001, dosed on 1 June, has an
overdue visit, a running SAE clock and a failed email — none of which a BJ01 user may see.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import time_machine
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from ctit_trial.audit import system_actor
from ctit_trial.demo import Person, Story, SubjectActs
from dosing import services as dosing_services
from enrollment.roles import INVESTIGATOR, MONITOR, SRC_MEMBER, STUDY_COORDINATOR
from safety import services as safety_services
from safety.models import AdverseEvent, Notification
from safety.services import dlt as dlt_services
from tests.factories import PASSWORD, make_consent, make_site, make_staff_user, make_subject

NOW = datetime(2026, 6, 12, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
AWARE_AT = NOW - timedelta(hours=13)  # 2026-06-11 21:00 in Beijing
USERS = (
    ("coord_a", STUDY_COORDINATOR, "A"),
    ("inv_a", INVESTIGATOR, "A"),
    ("src_a", SRC_MEMBER, "A"),
    ("monitor", MONITOR, None),
    ("coord_b", STUDY_COORDINATOR, "B"),
    ("inv_b", INVESTIGATOR, "B"),
)


@dataclass
class World:
    sites: dict[str, object] = field(default_factory=dict)
    users: dict[str, object] = field(default_factory=dict)
    subjects: dict[str, object] = field(default_factory=dict)


def _replay(steps: list[tuple[datetime, object]]) -> None:
    for instant, act in sorted(steps, key=lambda step: step[0]):
        with time_machine.travel(instant, tick=False):
            act()


def _dosed_journey(story: Story, acts: SubjectActs) -> list[tuple[datetime, object]]:
    """Screening to D3 through the demo's acts; the lab result, the fever and the SAE of S-BJ01-001."""
    steps = [(-9, "09:30", acts.register), (-8, "10:05", acts.consent), (-7, "10:00", acts.screen)]
    steps += [(-6, "10:00", acts.sign), (-5, "10:00", acts.enroll), (-5, "11:00", acts.schedule)]
    steps += [(-1, "10:00", acts.reconfirm), (0, "08:45", acts.assess), (0, "09:50", acts.infuse)]
    steps += [(0, clock, lambda m=minutes: acts.draw(m)) for minutes, clock in ((60, "10:45"), (120, "11:45"))]
    steps += [(0, "13:45", lambda: acts.draw(240)), (2, "10:30", lambda: acts.visit("D2", 2))]
    steps += [(3, "10:30", lambda: acts.visit("D3", 3)), (2, "10:45", acts.related_fever)]
    steps += [(3, "11:00", lambda: _alt_result(acts)), (3, "16:00", lambda: _vomiting(acts))]
    steps.append((4, "15:00", lambda: _confirm_dlt(acts, story.actors["src"])))
    timed = [(acts.instant(offset, clock), act) for offset, clock, act in steps]
    timed.append((AWARE_AT + timedelta(minutes=30), lambda: acts.serious_allergic_reaction(AWARE_AT)))
    return timed


def _alt_result(acts: SubjectActs) -> None:
    safety_services.lab_result_grade(
        actor=acts.investigator,
        subject=acts.subject,
        analyte="alt_increased",
        value=Decimal(52),
        unit="U/L",
        uln=Decimal(40),
        observed_on=acts.d0 + timedelta(days=3),
    )


def _vomiting(acts: SubjectActs) -> None:
    """A related grade 3 vomiting on D2: a non-haematologic DLT candidate."""
    safety_services.ae_record(
        actor=acts.investigator,
        subject=acts.subject,
        verbatim_term="Vomiting, could not keep fluids down",
        other_term="Vomiting",
        other_meddra_code="10047700",
        grade=3,
        onset_date=acts.d0 + timedelta(days=2),
        end_date=acts.d0 + timedelta(days=3),
        ongoing=False,
        relatedness="probably",
        expectedness="unexpected",
        action_taken="not_applicable",
    )


def _confirm_dlt(acts: SubjectActs, src_member) -> None:
    """The SRC member confirms the vomiting as a DLT (signed): level 1 becomes a 3+3 cohort."""
    ae = AdverseEvent.objects.get(subject_id=acts.subject_id, other_term="Vomiting")
    reason = "Grade 3 vomiting probably related, no other cause"
    dlt_services.dlt_adjudicate(actor=src_member, ae=ae, decision="confirm", reason=reason, password=PASSWORD)


def _enrolled_journey(acts: SubjectActs) -> list[tuple[datetime, object]]:
    """Screening to the planned infusion of S-BJ01-002 (D0 tomorrow: D−1 today, not reconfirmed yet)."""
    steps = [(-9, "09:30", acts.register), (-8, "10:05", acts.consent), (-7, "10:00", acts.screen)]
    steps += [(-6, "10:00", acts.sign), (-5, "10:00", acts.enroll), (-5, "11:00", acts.schedule)]
    return [(acts.instant(offset, clock), act) for offset, clock, act in steps]


def _other_site_subject(world: World) -> None:
    """S-DEMO2-001, consented in Berlin on 5 June: an SAE not reported yet and an email that failed."""
    site, investigator = world.sites["B"], world.users["inv_b"]
    with time_machine.travel(datetime(2026, 6, 5, 8, 0, tzinfo=UTC), tick=False):
        subject = make_subject(site=site)
        make_consent(subject=subject, signed_at=datetime(2026, 6, 5, 7, 30, tzinfo=UTC), actor=world.users["coord_b"])
    with time_machine.travel(NOW - timedelta(hours=2), tick=False):
        safety_services.ae_record(
            actor=investigator,
            subject=subject,
            verbatim_term="Fall with hip fracture",
            other_term="Hip fracture",
            other_meddra_code="10020100",
            grade=3,
            onset_date=date(2026, 6, 11),
            serious=True,
            sae_hospitalization=True,
            awareness_at=NOW - timedelta(hours=3),
            relatedness="not_related",
            expectedness="unexpected",
            action_taken="none",
        )
    world.subjects["B1"] = subject
    failed_email(subject=subject, recipient=investigator, kind="sae_reminder", due_at=NOW - timedelta(hours=1))


def failed_email(*, subject, recipient, kind: str, due_at: datetime) -> Notification:
    """A reminder whose delivery failed (the sender's end state after a refused address)."""
    return Notification.objects.create(
        recipient=recipient,
        recipient_email=recipient.email,
        kind=kind,
        subject=subject,
        site=subject.site,
        object_ref=f"subject:{subject.pk}",
        occasion=f"{kind}:{subject.pk}:test",
        due_at=due_at,
        status=Notification.Status.FAILED,
        last_error="550 mailbox unavailable",
        created_at=due_at,
    )


def build_world() -> World:
    """Seed the protocol and roles, two sites and their staff, then play each subject's story at its times."""
    world = World()
    with time_machine.travel(datetime(2026, 5, 1, tzinfo=UTC), tick=False):
        call_command("seed", verbosity=0)
        berlin = make_site(code="DEMO2", name="Berlin", time_zone="Europe/Berlin")
        world.sites = {"A": make_site(code="BJ01", name="Beijing"), "B": berlin}
        for username, role, key in USERS:
            sites = [world.sites[key]] if key else []
            world.users[username] = make_staff_user(role_key=role, sites=sites, username=username)
        dosing_services.dose_level_open_first(actor=system_actor(), reason="Trial start")
    names = {"admin": "coord_a", "coordinator": "coord_a", "investigator": "inv_a", "src": "src_a"}
    actors = {role: world.users[username] for role, username in names.items()}
    story = Story(site=world.sites["A"], now=NOW, actors=actors, password=PASSWORD)
    first = SubjectActs(story, Person("A1", d0=-14, sex="F", born="1968-04-12"))
    second = SubjectActs(story, Person("A2", d0=1, sex="M", born="1961-09-30"))
    _replay(_dosed_journey(story, first) + _enrolled_journey(second))
    world.subjects |= {"A1": first.subject, "A2": second.subject}
    _other_site_subject(world)
    with time_machine.travel(NOW, tick=False):
        safety_services.notifications_sweep(now=NOW)
    failed_email(subject=first.subject, recipient=world.users["inv_a"], kind="sae_reminder", due_at=NOW)
    return world


def module_world(django_db_blocker):
    """Build the world inside a transaction rolled back when the module is done (a generator)."""
    fast = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        CTIT_REQUIRE_2FA=False,  # signatures take the password alone here (as in every test: tests/conftest.py)
        AXES_ENABLED=False,
    )
    with django_db_blocker.unblock(), fast, transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)
