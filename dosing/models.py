"""Dose levels of the trial, loaded from the protocol configuration."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from ctit_trial.signatures import SignatureFields
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


class SrcDecision(models.Model):
    """A Safety Review Committee decision beside the engine's recommendation; effective once signed."""

    class Kind(models.TextChoices):
        ESCALATE = "escalate", "Escalate to a higher level"
        EXPAND = "expand", "Continue / expand at the open level"
        DE_ESCALATE = "de_escalate", "De-escalate to a lower level"
        DECLARE_MTD = "declare_mtd", "Declare the MTD"
        DECLARE_MAD = "declare_mad", "Declare the maximum administered dose (MTD not reached)"
        STOP = "stop", "Stop: no tolerable dose"

    class Status(models.TextChoices):
        AWAITING_SIGNATURES = "awaiting_signatures", "Awaiting signatures"
        EFFECTIVE = "effective", "Effective"

    protocol = models.ForeignKey("enrollment.Protocol", on_delete=models.PROTECT, related_name="src_decisions")
    meeting_date = models.DateField()
    data_cutoff = models.DateTimeField(help_text="Data up to this instant were reviewed.")
    members_present = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="src_meetings")
    dose_path = models.CharField(max_length=500, blank=True, help_text="The live dose path the engine was given.")
    recommended_action = models.CharField(max_length=20)
    recommended_dose_level = models.PositiveSmallIntegerField(null=True, blank=True)
    recommended_subjects = models.PositiveSmallIntegerField(null=True, blank=True)
    recommendation_reason = models.TextField()
    decision = models.CharField(max_length=20, choices=Kind.choices)
    dose_level = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Target or declared level.")
    rationale = models.TextField(blank=True, help_text="Required when the decision differs from the engine.")
    status = models.CharField(max_length=25, choices=Status.choices, default=Status.AWAITING_SIGNATURES)
    effective_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    history = HistoricalRecords(m2m_fields=[members_present])

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        permissions = [("sign_srcdecision", "Can sign SRC decisions as a committee member")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision="stop", dose_level__isnull=True)
                | (~models.Q(decision="stop") & models.Q(dose_level__isnull=False)),
                name="src_decision_level_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        level = f" L{self.dose_level}" if self.dose_level else ""
        return f"SRC {self.meeting_date}: {self.get_decision_display()}{level}"


class SrcSignature(SignatureFields):
    """One committee member's electronic signature of a decision (re-authenticated, bound to its content)."""

    decision = models.ForeignKey(SrcDecision, on_delete=models.PROTECT, related_name="signatures")
    history = HistoricalRecords()

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["decision", "signer"], name="one_signature_per_member")]

    def __str__(self) -> str:
        return f"{self.printed_name} — {self.meaning} — {self.signed_at:%Y-%m-%d %H:%M} UTC"
