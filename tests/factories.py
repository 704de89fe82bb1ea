"""Test data built through the same services the application uses."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from ctit_trial.audit import save_audited, system_actor
from enrollment import services
from enrollment.models import Site, Subject

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery-9"


def make_site(*, code: str, name: str = "Test site", time_zone: str = "Asia/Shanghai") -> Site:
    return services.site_create(actor=system_actor(), code=code, name=name, time_zone=time_zone)


def make_staff_user(*, role_key: str, sites=(), username: str | None = None):
    """A staff user holding one study role and memberships of the given sites."""
    return services.staff_user_ensure(
        username=username or f"{role_key}-{next(_counter)}",
        role_key=role_key,
        site_codes=[site.code for site in sites],
        password=PASSWORD,
        email="staff@example.org",
        first_name="Test",
        last_name=role_key.title(),
    )


def make_subject(*, site: Site) -> Subject:
    actor = get_user_model().objects.filter(is_superuser=True).first() or _superuser()
    return services.subject_register(actor=actor, site=site)


def _superuser():
    return get_user_model().objects.create_superuser(f"root-{next(_counter)}", "root@example.org", PASSWORD)


@transaction.atomic  # a dosed slot commits only with its infusion (dosing/migrations/0007)
def make_infusion(*, subject: Subject, level: int, started_at, early_stop: str = ""):
    """A dosed subject: a dosed slot and an infusion row (test set-up; the dosing-day service comes later)."""
    from dosing.models import DoseLevel, DoseSlot, Infusion

    dose_level = DoseLevel.objects.get(level=level)
    actor = system_actor()
    raise_slot_ceiling(dose_level)
    slot = DoseSlot(dose_level=dose_level, subject=subject, status=DoseSlot.Status.DOSED, claimed_at=started_at)
    save_audited(slot, actor=actor, reason="test set-up")
    partial = bool(early_stop)
    infusion = Infusion(
        subject=subject,
        slot=slot,
        dose_level=dose_level,
        product_lot="LOT-TEST",
        product_viable_cells=dose_level.viable_cells,
        viability_percent=Decimal("92.0"),
        volume_ml=Decimal("50.0"),
        started_at=started_at,
        ended_at=started_at + timedelta(minutes=30),
        fraction_given_percent=Decimal(50 if partial else 100),
        viable_cells_given=dose_level.viable_cells // 2 if partial else dose_level.viable_cells,
        early_stop=early_stop,
        early_stop_reason="test set-up" if partial else "",
        recorded_by=actor,
        recorded_at=started_at + timedelta(minutes=45),
    )
    save_audited(infusion, actor=actor, reason="test set-up")
    return infusion


def raise_slot_ceiling(dose_level) -> None:
    """Allow one more claimed-or-dosed slot at the level, as `slot_claim` does before a slot is written directly."""
    from dosing.models import DoseSlot

    taken = DoseSlot.objects.filter(dose_level=dose_level).exclude(status=DoseSlot.Status.RELEASED).count()
    if dose_level.slot_ceiling <= taken:
        dose_level.slot_ceiling = taken + 1
        save_audited(dose_level, actor=system_actor(), reason="test set-up: one more slot allowed")


def set_open_level(level: int) -> None:
    """Make one dose level the open one (test set-up standing in for a signed SRC decision)."""
    from dosing.models import DoseLevel

    for dose_level in DoseLevel.objects.order_by("-status"):
        wanted = DoseLevel.Status.OPEN if dose_level.level == level else DoseLevel.Status.NOT_OPEN
        if dose_level.status != wanted:
            dose_level.status = wanted
            save_audited(dose_level, actor=system_actor(), reason="test set-up")


def make_consent(*, subject: Subject, signed_at, actor=None, version: str = "1.0"):
    """A recorded informed consent (by a member of the subject's site, or the superuser)."""
    actor = actor or get_user_model().objects.filter(is_superuser=True).first() or _superuser()
    return services.consent_record(actor=actor, subject=subject, version=version, signed_at=signed_at)


def make_screening(*, subject: Subject, document: dict, actor=None):
    """A screening saved from an Appendix A document (the subject needs a consent first)."""
    actor = actor or get_user_model().objects.filter(is_superuser=True).first() or _superuser()
    return services.screening_record(actor=actor, subject=subject, document=document)


def make_site_member(*, site: Site, role_key: str = "investigator"):
    """A staff user working at one site (an investigator unless another role is named)."""
    return make_staff_user(role_key=role_key, sites=[site])


def make_visit_schedule(*, infusion, actor=None):
    """The subject's D0…D30 visits created from its infusion through the safety service."""
    from safety import services as safety_services

    return safety_services.visit_schedule_create(actor=actor or system_actor(), infusion=infusion)


def make_adverse_event(*, subject: Subject, onset_date, term: str | None = "fever", actor=None, **values):
    """An AE recorded through the safety service (defaults: grade 1, possibly related, expected)."""
    from safety import services as safety_services
    from safety.models import CtcaeTerm

    catalogue_term = CtcaeTerm.objects.get(code=term) if term else None
    fields = {"verbatim_term": catalogue_term.term if term else values.get("other_term", "Other event"), "grade": 1}
    fields |= {"relatedness": "possibly", "expectedness": "expected", **values}
    if term:
        fields["ctcae_term"] = catalogue_term
    actor = actor or make_site_member(site=subject.site)
    return safety_services.ae_record(actor=actor, subject=subject, onset_date=onset_date, **fields)
