"""Stored eligibility evaluations with a verdict per criterion, and the investigator's signature."""

from django.conf import settings
from django.db import models

from ctit_trial.audit import AuditedHistory
from ctit_trial.signatures import SignatureFields
from ctit_trial.site_time import format_instant
from enrollment.models.screening import Screening
from enrollment.models.trial import Criterion


class EligibilityEvaluation(models.Model):
    """The engine's outcome for one screening's data (a new row each time the data or the engine change)."""

    class Outcome(models.TextChoices):
        ELIGIBLE = "eligible", "Eligible"
        INELIGIBLE = "ineligible", "Ineligible"
        INCOMPLETE = "incomplete", "Incomplete"

    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="evaluations")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    engine_version = models.CharField(max_length=20)
    protocol_version = models.CharField(max_length=20)
    content_digest = models.CharField(max_length=64, help_text="SHA-256 of the screening document evaluated.")
    evaluated_at = models.DateTimeField()
    evaluated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = AuditedHistory()

    class Meta:
        ordering = ["screening", "evaluated_at", "pk"]

    def __str__(self) -> str:
        return f"{self.screening}: {self.get_outcome_display()} ({format_instant(self.evaluated_at)})"


class CriterionVerdict(models.Model):
    """One criterion's status and reason within an evaluation."""

    class Status(models.TextChoices):
        PASS = "pass", "Pass"
        FAIL = "fail", "Fail"
        MISSING = "missing", "Missing data"
        REVIEW = "review", "Needs the investigator's review"

    evaluation = models.ForeignKey(EligibilityEvaluation, on_delete=models.PROTECT, related_name="verdicts")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="verdicts")
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.TextField()
    history = AuditedHistory()

    class Meta:
        ordering = ["evaluation", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "criterion"],
                name="one_verdict_per_criterion",
                violation_error_message="This evaluation already has a verdict for this criterion.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.criterion.code}: {self.status}"


class EligibilitySignature(SignatureFields):
    """The investigator's signature of an eligible screening; valid while its MAC matches the current document."""

    screening = models.ForeignKey(Screening, on_delete=models.PROTECT, related_name="signatures")
    evaluation = models.ForeignKey(EligibilityEvaluation, on_delete=models.PROTECT, related_name="signatures")
    history = AuditedHistory()

    class Meta:
        ordering = ["screening", "signed_at", "pk"]
        permissions = [("sign_eligibility", "Can sign a subject's eligibility as investigator")]
