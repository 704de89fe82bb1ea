"""Protocol reference data of the safety follow-up: the visit schedule and the CTCAE catalogue."""

from django.db import models
from simple_history.models import HistoricalRecords

from enrollment.models import Protocol


class VisitDefinition(models.Model):
    """A scheduled visit: target day relative to D0 and its allowed window in site-local days."""

    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="visit_definitions")
    code = models.CharField(max_length=10)
    label = models.CharField(max_length=60)
    target_day = models.SmallIntegerField()
    window_before = models.PositiveSmallIntegerField()
    window_after = models.PositiveSmallIntegerField()
    content = models.CharField(max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["protocol", "target_day"]
        constraints = [models.UniqueConstraint(fields=["protocol", "code"], name="unique_visit_code")]

    def __str__(self) -> str:
        return f"{self.code} (D{self.target_day} −{self.window_before}/+{self.window_after})"


class CtcaeTerm(models.Model):
    """A CTCAE term with its MedDRA code, SOC and grading specification (seeds/ctcae_v5.yaml)."""

    class Category(models.TextChoices):
        LAB = "lab", "Laboratory"
        CLINICAL = "clinical", "Clinical"

    ctcae_version = models.CharField(max_length=10)
    code = models.SlugField(max_length=60, help_text="Stable key used by the grading rules.")
    term = models.CharField(max_length=120)
    meddra_code = models.CharField(max_length=12)
    soc = models.CharField(max_length=120, verbose_name="system organ class")
    category = models.CharField(max_length=10, choices=Category.choices)
    specification = models.JSONField(help_text="Grade definitions, grading rule and DLT flags as seeded.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["ctcae_version", "term"]
        constraints = [
            models.UniqueConstraint(fields=["ctcae_version", "code"], name="unique_ctcae_term_code"),
        ]

    def __str__(self) -> str:
        return f"{self.term} (CTCAE v{self.ctcae_version}, MedDRA {self.meddra_code})"
