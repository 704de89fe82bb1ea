"""Reads of sites, roles and subjects, always scoped to what the caller may see."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from ctit_trial.errors import Conflict, InvalidInput, NotVisible
from enrollment.models import Protocol, Site, SiteMembership, Subject
from enrollment.roles import GROUP_TO_ROLE


def user_role_keys(user: AbstractBaseUser) -> list[str]:
    """The study roles the user holds, by key (e.g. ['investigator'])."""
    names = user.groups.values_list("name", flat=True)
    return sorted(GROUP_TO_ROLE[name] for name in names if name in GROUP_TO_ROLE)


def user_sees_all_sites(user: AbstractBaseUser) -> bool:
    """Superusers and the read-only cross-site roles (monitor, sponsor safety)."""
    return user.is_superuser or user.has_perm("enrollment.view_all_sites")


def member_site_ids(user: AbstractBaseUser) -> QuerySet:
    """Ids of the sites where the user has an active membership."""
    return SiteMembership.objects.filter(user=user, is_active=True).values("site_id")


def sites_visible_to(user: AbstractBaseUser) -> QuerySet[Site]:
    """Sites the user may see: their own, or all for cross-site roles."""
    if not user.is_authenticated:
        return Site.objects.none()
    if user_sees_all_sites(user):
        return Site.objects.all()
    return Site.objects.filter(pk__in=member_site_ids(user))


def sites_of_member(user: AbstractBaseUser) -> QuerySet[Site]:
    """Sites where the user works, the only ones where they may change data."""
    if user.is_superuser:
        return Site.objects.all()
    return Site.objects.filter(pk__in=member_site_ids(user))


def subjects_visible_to(user: AbstractBaseUser) -> QuerySet[Subject]:
    """Subjects of the sites the user may see."""
    return Subject.objects.filter(site__in=sites_visible_to(user)).select_related("site")


def subject_get_visible(user: AbstractBaseUser, *, pk: int) -> Subject:
    """One subject, or NotVisible when it does not exist or belongs to another site."""
    subject = subjects_visible_to(user).filter(pk=pk).first()
    if subject is None:
        raise NotVisible("Subject not found.")
    return subject


def site_memberships_of(user: AbstractBaseUser) -> QuerySet[SiteMembership]:
    """The user's active memberships with their sites."""
    return SiteMembership.objects.filter(user=user, is_active=True).select_related("site")


def protocol_current() -> Protocol:
    """The trial's protocol record; Conflict while `manage.py seed` has not loaded it."""
    protocol = Protocol.objects.order_by("pk").first()
    if protocol is None:
        raise Conflict("The protocol configuration is not loaded: run `python manage.py seed`.")
    return protocol


def site_for_request(user: AbstractBaseUser, *, code: str | None) -> Site:
    """The site named by code (visible to the user), or the user's only site when no code is given."""
    if code:
        site = sites_visible_to(user).filter(code=code).first()
        if site is None:
            raise InvalidInput.for_field("site", f"Unknown site '{code}'.")
        return site
    sites = list(sites_of_member(user)[:2])
    if len(sites) != 1:
        raise InvalidInput.for_field("site", "Name the site (its code): you work at more than one site, or none.")
    return sites[0]
