"""Graded measurements: lab results (as entered, with their unit, and converted) and body temperatures."""

from django.conf import settings
from django.db import models

from ctit_trial.audit import AuditedHistory
from ctit_trial.site_time import format_instant
from safety.models.follow_up import AdverseEvent, CtcaeTerm


class EpisodeAction(models.TextChoices):
    """What a graded measurement did to its term's episode."""

    CREATED = "created", "Episode opened"
    WORSENED = "worsened", "Episode worsened"
    UNCHANGED = "unchanged", "Episode unchanged"
    CLOSED = "closed", "Episode closed"
    NONE = "none", "No episode"


def _amount(verbose_name: str | None = None, **kwargs) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=20, decimal_places=6, null=True, blank=True, **kwargs)


class LabResult(models.Model):
    """A follow-up lab result as entered (value, unit, reference range), converted and graded by CTCAE."""

    class BaselineSource(models.TextChoices):
        SCREENING = "screening", "The subject's screening value"
        CALLER = "caller", "Given with the result (with a reason)"
        NONE = "none", "No baseline on record (normal baseline assumed)"

    subject = models.ForeignKey("enrollment.Subject", on_delete=models.PROTECT, related_name="lab_results")
    ctcae_term = models.ForeignKey(CtcaeTerm, verbose_name="CTCAE term", on_delete=models.PROTECT, related_name="+")
    observed_on = models.DateField(help_text="Site-local day the sample was drawn.")
    value = models.DecimalField(max_digits=14, decimal_places=4, help_text="As entered, in `unit`.")
    unit = models.CharField(max_length=10)
    lln = models.DecimalField("LLN", max_digits=14, decimal_places=4, null=True, blank=True)
    uln = models.DecimalField("ULN", max_digits=14, decimal_places=4, null=True, blank=True)
    grading_unit = models.CharField(max_length=10, help_text="The unit CTCAE grades this analyte in.")
    graded_value = _amount(help_text="The value converted to the grading unit.")
    graded_lln = _amount("LLN used for grading")
    graded_uln = _amount("ULN used for grading")
    baseline = _amount(help_text="The baseline in the grading unit.")
    baseline_source = models.CharField(max_length=10, choices=BaselineSource.choices)
    baseline_reason = models.TextField(blank=True, help_text="Why the caller's baseline replaces the record's.")
    on_anticoagulation = models.BooleanField(default=False)
    grade = models.PositiveSmallIntegerField(null=True, blank=True)
    grade_reason = models.TextField()
    ctcae_version = models.CharField("CTCAE version", max_length=10)
    action = models.CharField(max_length=10, choices=EpisodeAction.choices)
    adverse_event = models.ForeignKey(
        AdverseEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="lab_results"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    history = AuditedHistory()

    class Meta:
        ordering = ["subject", "observed_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(graded_value__gte=0),
                name="lab_result_value_not_negative",
                violation_error_message="A lab value cannot be negative.",
            ),
            models.CheckConstraint(
                condition=(models.Q(lln__isnull=True) | models.Q(lln__gt=0))
                & (models.Q(uln__isnull=True) | models.Q(uln__gt=0))
                & (models.Q(lln__isnull=True) | models.Q(uln__isnull=True) | models.Q(lln__lt=models.F("uln"))),
                name="lab_result_reference_range_valid",
                violation_error_message="The reference range's LLN and ULN are above 0, with the LLN below the ULN.",
            ),
            models.CheckConstraint(
                condition=~models.Q(baseline_source="caller") | ~models.Q(baseline_reason=""),
                name="lab_result_caller_baseline_has_reason",
                violation_error_message=(
                    "A baseline given with the result needs the reason it replaces the recorded one."
                ),
            ),
        ]

    def __str__(self) -> str:
        value = self.value.normalize()  # 130.0000 reads 130
        return f"{self.subject}: {self.ctcae_term.term} {value:f} {self.unit} on {self.observed_on}"


class TemperatureRecord(models.Model):
    """A recorded body temperature (vital signs), graded for fever by CTCAE."""

    subject = models.ForeignKey("enrollment.Subject", on_delete=models.PROTECT, related_name="temperatures")
    measured_at = models.DateTimeField()
    temperature_c = models.DecimalField("temperature (°C)", max_digits=4, decimal_places=2)
    sustained_hours = models.DecimalField(
        "sustained for (hours)", max_digits=5, decimal_places=1, null=True, blank=True
    )
    source = models.CharField(max_length=40, help_text="Where it was recorded, e.g. 'infusion vital signs'.")
    grade = models.PositiveSmallIntegerField(null=True, blank=True)
    grade_reason = models.TextField()
    ctcae_version = models.CharField("CTCAE version", max_length=10)
    action = models.CharField(max_length=10, choices=EpisodeAction.choices)
    adverse_event = models.ForeignKey(
        AdverseEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="temperatures"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    history = AuditedHistory()

    class Meta:
        ordering = ["subject", "measured_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(temperature_c__gte=30, temperature_c__lte=45),
                name="temperature_30_to_45_c",
                violation_error_message="A body temperature is recorded between 30 and 45 °C.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject}: {self.temperature_c} °C at {format_instant(self.measured_at)}"
