"""Trial set-up and registration: roles, protocol and criteria, sites, memberships, staff, subject numbers."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.db import transaction
from django.db.models import Max

from ctit_trial.audit import require_reason, save_audited, system_actor, upsert_audited, upsert_each
from ctit_trial.config.protocol import SETTINGS_SECTIONS, ProtocolSeed
from ctit_trial.config.reference import CriteriaSeed
from ctit_trial.errors import InvalidInput, PermissionDenied
from enrollment.models import Criterion, Protocol, Site, SiteMembership, Subject
from enrollment.roles import ROLES
from enrollment.selectors import sites_of_member

SITE_EDITABLE_FIELDS = ("name", "time_zone", "is_active")


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Create or update one group per study role holding exactly that role's permissions."""
    granted, actor = {}, system_actor()
    for role in ROLES.values():
        group = Group.objects.filter(name=role.group_name).first() or Group(name=role.group_name)
        group._history_user, group._change_reason = actor, "Study role synced from enrollment/roles.py"
        if group.pk is None:
            group.save()
        group.permissions.set(_permissions(role.permission_names()))  # history row only when they change
        granted[role.key] = group.permissions.count()
    return granted


def _permissions(names: set[str]) -> list[Permission]:
    wanted = {tuple(name.split(".")) for name in names}
    found = [
        perm
        for perm in Permission.objects.select_related("content_type")
        if (perm.content_type.app_label, perm.codename) in wanted
    ]
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        raise LookupError(f"Unknown permissions in role definitions: {sorted(missing)}")
    return found


@transaction.atomic
def role_assign(
    *, actor: AbstractBaseUser | None = None, user: AbstractBaseUser, role_key: str, reason: str = ""
) -> None:
    """Put a user in a study role's group; the membership's history row names the actor and the reason."""
    if role_key not in ROLES:
        raise InvalidInput.for_field("role", f"Unknown role '{role_key}'; expected one of {sorted(ROLES)}.")
    group = Group.objects.get(name=ROLES[role_key].group_name)
    if user.pk is not None and user.groups.filter(pk=group.pk).exists():
        return  # already in the role: an add would still write history rows (seed runs this on every call)
    user._history_user = actor or system_actor()
    user._change_reason = reason or f"Role '{ROLES[role_key].group_name}' assigned"
    user.groups.add(group)


@transaction.atomic
def site_create(*, actor: AbstractBaseUser | None, code: str, name: str, time_zone: str) -> Site:
    """Register a new site."""
    site = Site(code=code, name=name, time_zone=time_zone)
    save_audited(site, actor=actor, reason="Site created")
    return site


@transaction.atomic
def site_update(*, actor: AbstractBaseUser, site: Site, reason: str | None, **changes) -> Site:
    """Change a site's name, time zone or active flag, with a reason for change."""
    reason = require_reason(reason)
    unknown = set(changes) - set(SITE_EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput.for_field(sorted(unknown)[0], "This field cannot be changed.")
    site = Site.objects.select_for_update().get(pk=site.pk)
    for field, value in changes.items():
        setattr(site, field, value)
    save_audited(site, actor=actor, reason=reason)
    return site


@transaction.atomic
def membership_grant(*, actor: AbstractBaseUser | None, user: AbstractBaseUser, site: Site) -> SiteMembership:
    """Give a staff user access to a site (re-activating an earlier membership)."""
    membership = SiteMembership.objects.select_for_update().filter(user=user, site=site).first()
    membership = membership or SiteMembership(user=user, site=site)  # one history row, with actor and reason
    membership.is_active = True
    save_audited(membership, actor=actor, reason=f"Access to site {site.code} granted")
    return membership


@transaction.atomic
def membership_revoke(*, actor: AbstractBaseUser, membership: SiteMembership, reason: str | None) -> None:
    """Withdraw a staff user's access to a site; the row stays for the audit trail."""
    reason = require_reason(reason)
    membership = SiteMembership.objects.select_for_update().get(pk=membership.pk)
    membership.is_active = False
    save_audited(membership, actor=actor, reason=reason)


@transaction.atomic
def subject_register(*, actor: AbstractBaseUser, site: Site) -> Subject:
    """Open a subject record at a site with the next study number, S-<site code>-<nnn>, without gaps."""
    if not sites_of_member(actor).filter(pk=site.pk).exists():
        raise PermissionDenied(f"You are not a member of site {site.code}.")
    site = Site.objects.select_for_update().get(pk=site.pk)  # serialises numbering per site
    if not site.is_active:
        raise InvalidInput.for_field("site", f"Site {site.code} is not active.")
    last = Subject.objects.filter(site=site).aggregate(last=Max("sequence"))["last"] or 0
    subject = Subject(site=site, sequence=last + 1, study_number=f"S-{site.code}-{last + 1:03d}")
    save_audited(subject, actor=actor, reason="Subject registered")
    return subject


PROTOCOL_SECTIONS = SETTINGS_SECTIONS


def protocol_record_values(seed: ProtocolSeed) -> dict[str, Any]:
    """The Protocol row's fields as the seed sets them (also what the seeds-match check compares)."""
    trial = seed.trial
    return {
        "title": " ".join(trial.title.split()),
        "sponsor": trial.sponsor,
        "version": trial.protocol_version,
        "ctcae_version": trial.ctcae_version,
        "planned_enrollment": trial.planned_enrollment,
        "registry_id": trial.registry_id,
        "configuration": dict(seed.settings.sections),
    }


@transaction.atomic
def protocol_load(*, actor: AbstractBaseUser, seed: ProtocolSeed) -> Protocol:
    """Create or update the trial's protocol record from the typed seed; unchanged fields are not written."""
    protocol, _ = upsert_audited(
        Protocol,
        lookup={"code": seed.trial.code},
        values=protocol_record_values(seed),
        actor=actor,
        reason="Loaded from seeds/protocol.yaml",
    )
    return protocol


def criterion_rows(protocol: Protocol, catalogue: CriteriaSeed) -> list[tuple[dict, dict]]:
    """(lookup, values) of each Criterion row the seed sets."""
    return [
        (
            {"protocol": protocol, "code": item.code},
            {"kind": item.kind, "number": item.number, "text": item.text, "catalogue_version": catalogue.version},
        )
        for item in catalogue.criteria
    ]


@transaction.atomic
def criteria_load(*, actor: AbstractBaseUser, protocol: Protocol, catalogue: CriteriaSeed) -> int:
    """Create or update the eligibility criteria catalogue; returns how many rows changed."""
    rows = criterion_rows(protocol, catalogue)
    return upsert_each(Criterion, rows, actor=actor, reason="Loaded from seeds/criteria.yaml")


@transaction.atomic
def staff_user_ensure(
    *, username: str, role_key: str, site_codes: list[str], password: str, email: str = "", **names
) -> AbstractBaseUser:
    """Create a staff user with a study role and site memberships if absent (existing users are kept)."""
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        user = user_model(username=username, email=email, is_staff=True, **names)
        user.set_password(password)
        save_audited(user, actor=system_actor(), reason="Staff user created by the seed")
    role_assign(user=user, role_key=role_key)
    for site in Site.objects.filter(code__in=site_codes):
        if not SiteMembership.objects.filter(user=user, site=site, is_active=True).exists():
            membership_grant(actor=system_actor(), user=user, site=site)
    return user
