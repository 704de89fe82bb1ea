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
