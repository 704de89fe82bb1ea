"""The trial, its eligibility criteria catalogue, its sites and the staff memberships of each site."""

import zoneinfo
from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from ctit_trial.audit import AuditedHistory
from ctit_trial.config import ProtocolSettings, protocol_settings


def validate_time_zone(value: str) -> None:
    """Accept only IANA time zone names (e.g. Asia/Shanghai)."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone name (e.g. Asia/Shanghai).")


class Protocol(models.Model):
    """The trial and its protocol configuration, loaded from seeds/protocol.yaml by `manage.py seed` (ADR 0019)."""

    code = models.CharField(max_length=40, unique=True)
    registry_id = models.CharField("registry ID", max_length=20, unique=True)
    title = models.TextField()
    sponsor = models.CharField(max_length=200)
    version = models.CharField(max_length=20)
    ctcae_version = models.CharField("CTCAE version", max_length=10)
    planned_enrollment = models.PositiveIntegerField()
    configuration = models.JSONField(
        help_text="Protocol sections (escalation, scheduling, dosing gate, eligibility, safety, notifications)."
    )
    history = AuditedHistory()

    def __str__(self) -> str:
        return f"{self.code} ({self.registry_id}) v{self.version}"

    @property
    def config(self) -> ProtocolSettings:
        """The configuration the trial runs under, typed (validated like seeds/protocol.yaml; cached)."""
        return protocol_settings(self.configuration)


class Site(models.Model):
    """A trial site; its time zone defines the calendar days of every visit and reminder there."""

    code = models.CharField(
        max_length=10,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9]{2,10}$", "Use 2–10 capital letters or digits.")],
    )
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    is_active = models.BooleanField(default=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["code"]
        permissions = [("view_all_sites", "Can see every site's subjects (read-only roles)")]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The site's IANA time zone."""
        return zoneinfo.ZoneInfo(self.time_zone)

    def local_date(self, instant: datetime) -> date:
        """The site-local calendar day of an instant: days are counted in the site's time zone."""
        return instant.astimezone(self.zone).date()

    def local_isoformat(self, instant: datetime) -> str:
        """An instant in site-local time with its UTC offset, e.g. 2026-03-10T09:00:00+08:00."""
        return instant.astimezone(self.zone).isoformat()

    def today(self) -> date:
        """Today's calendar day at the site."""
        return self.local_date(timezone.now())


class SiteMembership(models.Model):
    """A staff user works at a site: they see and change only their sites' subjects."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="site_memberships")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="memberships")
    is_active = models.BooleanField(default=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["site__code", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "site"],
                name="unique_site_membership",
                violation_error_message="This user is already a member of this site.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.site.code}"


class Criterion(models.Model):
    """One eligibility criterion of the catalogue (seeds/criteria.yaml), text as in the registry."""

    class Kind(models.TextChoices):
        INCLUSION = "inclusion", "Inclusion"
        EXCLUSION = "exclusion", "Exclusion"

    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="criteria")
    code = models.CharField(max_length=8)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    number = models.PositiveSmallIntegerField()
    text = models.TextField()
    catalogue_version = models.CharField(max_length=20)
    history = AuditedHistory()

    class Meta:
        ordering = ["protocol", "-kind", "number"]
        verbose_name_plural = "criteria"
        constraints = [
            models.UniqueConstraint(
                fields=["protocol", "code"],
                name="unique_criterion_code",
                violation_error_message="This protocol already has a criterion with this code.",
            )
        ]

    def __str__(self) -> str:
        return self.code
