"""Dose levels of the trial, loaded from the protocol configuration."""

from django.db import models
from simple_history.models import HistoricalRecords

from enrollment.models import Protocol


class DoseLevel(models.Model):
    """A flat single-injection dose (viable cells per person); at most one level is open at a time."""

    class Status(models.TextChoices):
        NOT_OPEN = "not_open", "Not open"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="dose_levels")
    level = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=10)
    viable_cells = models.PositiveBigIntegerField(help_text="Viable cells per person (flat dose).")
    design_role = models.CharField(max_length=30)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NOT_OPEN)
    history = HistoricalRecords()

    class Meta:
        ordering = ["protocol", "level"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "level"], name="unique_dose_level"),
            models.UniqueConstraint(
                fields=["protocol"], condition=models.Q(status="open"), name="one_open_dose_level_per_protocol"
            ),
            models.CheckConstraint(condition=models.Q(level__gte=1), name="dose_level_starts_at_one"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.viable_cells / 1e8:.1f}×10⁸ viable cells)"


class DoseSlot(models.Model):
    """A subject's place in a dose level's cohort, claimed at enrollment under the dose level's row lock."""

    class Status(models.TextChoices):
        CLAIMED = "claimed", "Claimed (enrolled, not yet dosed)"
        DOSED = "dosed", "Dosed"
        RELEASED = "released", "Released"

    dose_level = models.ForeignKey(DoseLevel, on_delete=models.PROTECT, related_name="slots")
    subject = models.ForeignKey("enrollment.Subject", on_delete=models.PROTECT, related_name="dose_slots")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CLAIMED)
    claimed_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["claimed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject"], condition=~models.Q(status="released"), name="one_active_slot_per_subject"
            ),
            models.CheckConstraint(
                condition=models.Q(status="released", released_at__isnull=False) | ~models.Q(status="released"),
                name="released_slot_has_release_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.dose_level.label} ({self.get_status_display()})"


class Infusion(models.Model):
    """The single XJ-MK-002 injection a subject receives; D0 and the DLT window start with it."""

    class EarlyStop(models.TextChoices):
        NONE = "", "Full dose given"
        TOXICITY = "toxicity", "Stopped early for toxicity (subject stays evaluable)"
        NON_TOXICITY = "non_toxicity", "Stopped early for another reason (not evaluable, replaced)"

    subject = models.OneToOneField("enrollment.Subject", on_delete=models.PROTECT, related_name="infusion")
    slot = models.OneToOneField(DoseSlot, on_delete=models.PROTECT, related_name="infusion")
    dose_level = models.ForeignKey(DoseLevel, on_delete=models.PROTECT, related_name="infusions")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    early_stop = models.CharField(max_length=15, choices=EarlyStop.choices, default=EarlyStop.NONE, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="infusion_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} infused {self.started_at:%Y-%m-%d %H:%M} UTC at {self.dose_level.label}"
