"""Reads of sites, roles, subjects, consents, screenings and eligibility, always scoped to what the caller may see."""

from dataclasses import dataclass
from typing import Literal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, QuerySet

from ctit_trial.errors import Conflict, InvalidInput, NotVisible, PermissionDenied
from ctit_trial.signatures import signature_is_valid
from enrollment.documents import screening_document
from enrollment.models import (
    Consent,
    EligibilityEvaluation,
    EligibilitySignature,
    Protocol,
    Screening,
    Site,
    SiteMembership,
    Subject,
)
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


def consents_of(subject: Subject) -> QuerySet[Consent]:
    """A subject's consents, oldest first."""
    return subject.consents.select_related("subject__site", "obtained_by", "recorded_by").order_by("signed_at", "pk")


def consent_latest(subject: Subject) -> Consent | None:
    """The consent a new screening relies on: the most recently signed one."""
    return consents_of(subject).last()


def screenings_visible_to(user: AbstractBaseUser) -> QuerySet[Screening]:
    """Screenings of the sites the user may see, with what their documents and statuses need."""
    return (
        Screening.objects.filter(subject__site__in=sites_visible_to(user))
        .annotate(
            is_current=~Exists(Screening.objects.filter(subject=OuterRef("subject"), attempt__gt=OuterRef("attempt")))
        )
        .select_related("subject__site", "consent", "serology", "recorded_by")
        .prefetch_related("labs", "signatures", "evaluations__verdicts__criterion")
        .order_by("subject__site__code", "subject__sequence", "attempt")
    )


def screening_get_visible(user: AbstractBaseUser, *, pk: int, subject: Subject | None = None) -> Screening:
    """One screening (of `subject`, when given), or NotVisible."""
    screenings = screenings_visible_to(user).filter(pk=pk)
    screening = (screenings.filter(subject=subject) if subject else screenings).first()
    if screening is None:
        raise NotVisible("Screening not found.")
    return screening


def screening_current(subject: Subject) -> Screening | None:
    """The subject's latest screening attempt (earlier ones are kept, but only this one counts)."""
    return subject.screenings.select_related("subject__site", "consent", "serology").order_by("attempt").last()


def evaluation_current(screening: Screening) -> EligibilityEvaluation | None:
    """The screening's most recent evaluation (uses prefetched rows when present)."""
    return max(screening.evaluations.all(), key=lambda row: (row.evaluated_at, row.pk), default=None)


def evaluations_visible_to(user: AbstractBaseUser) -> QuerySet[EligibilityEvaluation]:
    """Evaluations of screenings at the sites the user may see, with their verdicts."""
    return (
        EligibilityEvaluation.objects.filter(screening__subject__site__in=sites_visible_to(user))
        .select_related("screening__subject__site", "evaluated_by")
        .prefetch_related("verdicts__criterion")
        .order_by("-evaluated_at", "-pk")
    )


@dataclass(frozen=True)
class SignatureStatus:
    """Whether the screening's current data carry a valid investigator signature (computed, never stored)."""

    state: Literal["unsigned", "valid", "invalidated"]
    signature: EligibilitySignature | None  # the valid one, else the latest one

    @property
    def is_valid(self) -> bool:
        return self.state == "valid"


def signature_content(document: dict, *, evaluation_id: int) -> dict:
    """What the investigator signs: the screening document and the evaluation it was found eligible by."""
    return {"document": document, "evaluation": evaluation_id}


def signature_status(screening: Screening) -> SignatureStatus:
    """Valid while a signature's MAC matches this screening's current document (and its signed evaluation)."""
    signatures = sorted(screening.signatures.all(), key=lambda row: (row.signed_at, row.pk))
    if not signatures:
        return SignatureStatus("unsigned", None)
    document = screening_document(screening)
    valid = [
        signature
        for signature in signatures
        if signature_is_valid(
            signature, record=screening, content=signature_content(document, evaluation_id=signature.evaluation_id)
        )
    ]
    return SignatureStatus("valid", valid[-1]) if valid else SignatureStatus("invalidated", signatures[-1])


def require_site_member(user: AbstractBaseUser, site: Site) -> None:
    """Only staff working at a site change its subjects' data (PermissionDenied otherwise)."""
    if not sites_of_member(user).filter(pk=site.pk).exists():
        raise PermissionDenied(f"You are not a member of site {site.code}.")


def subject_for_update(subject: Subject) -> Subject:
    """The subject row, locked: the guard of its status, schedule and episodes."""
    return Subject.objects.select_for_update(of=("self",)).select_related("site").get(pk=subject.pk)
