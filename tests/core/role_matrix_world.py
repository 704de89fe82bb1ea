"""One seeded world for the role-matrix tests: two sites, a dosed subject at each with identifiers, seven users."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import time_machine
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from enrollment import services
from enrollment.roles import DATA_MANAGER, INVESTIGATOR, MONITOR, SPONSOR_SAFETY, SRC_MEMBER, STUDY_COORDINATOR
from tests.enrollment.documents import APPENDIX_A
from tests.factories import (
    PASSWORD,
    make_adverse_event,
    make_consent,
    make_infusion,
    make_screening,
    make_site,
    make_staff_user,
    make_subject,
    make_visit_schedule,
)

CONSENT_AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SCREENING_AT = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
SIGNING_AT = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
INFUSED_AT = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # D0 = 10 March in Shanghai
AE_AT = datetime(2026, 3, 13, 2, 0, tzinfo=UTC)

# (username, role, site key or None for cross-site roles)
USERS = (
    ("coord_a", STUDY_COORDINATOR, "A"),
    ("inv_a", INVESTIGATOR, "A"),
    ("dm_a", DATA_MANAGER, "A"),
    ("coord_b", STUDY_COORDINATOR, "B"),
    ("monitor", MONITOR, None),
    ("src_a", SRC_MEMBER, "A"),
    ("sponsor", SPONSOR_SAFETY, None),
)
SITE_CODES = {"A": "BJ01", "B": "DEMO2"}


def identity_of(key: str) -> dict[str, str]:
    """Direct identifiers of site `key`'s subject: distinctive strings searched for in every response."""
    digit = "1" if key == "A" else "2"
    return {
        "full_name": f"Quillon Marrowby-{key}",
        "national_id": f"11010119800{digit}017731",
        "phone": f"+86 139 7{digit}4 88321",
        "email": f"quillon.{key.lower()}@patients.example.org",
    }


@dataclass
class World:
    users: dict[str, object] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    user_site: dict[str, str | None] = field(default_factory=dict)
    sites: dict[str, object] = field(default_factory=dict)
    objects: dict[str, dict[str, object]] = field(default_factory=lambda: {"A": {}, "B": {}})


def _dosed_subject(world: World, key: str, site) -> None:
    coordinator = world.users["coord_a" if key == "A" else "coord_b"]
    with time_machine.travel(CONSENT_AT, tick=False):
        subject = make_subject(site=site)
        services.identity_save(actor=coordinator, subject=subject, **identity_of(key))
        consent = make_consent(subject=subject, signed_at=CONSENT_AT)
    with time_machine.travel(SCREENING_AT, tick=False):
        screening = make_screening(subject=subject, document=APPENDIX_A)
    infusion = make_infusion(subject=subject, level=1, started_at=INFUSED_AT)
    with time_machine.travel(AE_AT, tick=False):
        visits = make_visit_schedule(infusion=infusion)
        nausea = {"term": None, "other_term": "Nausea", "other_meddra_code": "10028813"}
        ae = make_adverse_event(subject=subject, onset_date=date(2026, 3, 12), grade=3, **nausea)
    objects = world.objects[key]
    objects.update(subject=subject, consent=consent, screening=screening, infusion=infusion, ae=ae)
    objects.update(visit=visits[1], identity=subject.identity, slot=infusion.slot)
    objects.update(evaluation=screening.evaluations.get(), dlt=ae.dlt_assessment)


def build_world() -> World:
    """Seed the protocol and roles, then two sites with a dosed subject each (through the services)."""
    world = World()
    call_command("seed", verbosity=0)
    world.sites = {key: make_site(code=code, name=f"Site {code}") for key, code in SITE_CODES.items()}
    for username, role, site_key in USERS:
        sites = [world.sites[site_key]] if site_key else []
        world.users[username] = make_staff_user(role_key=role, sites=sites, username=username)
        world.roles[username], world.user_site[username] = role, site_key
    for key, site in world.sites.items():
        _dosed_subject(world, key, site)
    return world


def module_world(django_db_blocker):
    """Build the world inside a transaction that is rolled back when the module is done (a generator)."""
    fast = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    with django_db_blocker.unblock(), fast, transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


__all__ = ["PASSWORD", "World", "build_world", "identity_of", "module_world"]
