"""Dose levels of the trial, loaded from the protocol configuration."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from ctit_trial.audit import AuditedHistory
from ctit_trial.signatures import SignatureFields
from ctit_trial.site_time import format_instant
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
    slot_ceiling = models.PositiveSmallIntegerField(
        default=0,
        help_text="The number of claimed-or-dosed slots the engine allowed at the level at the last claim "
        "(the database refuses more; dosing/migrations/0007).",
    )
    history = AuditedHistory()

    class Meta:
        ordering = ["protocol", "level"]
        constraints = [
            models.UniqueConstraint(
                fields=["protocol", "level"],
                name="unique_dose_level",
                violation_error_message="This protocol already has a dose level with this number.",
            ),
            models.UniqueConstraint(
                fields=["protocol"],
                condition=models.Q(status="open"),
                name="one_open_dose_level_per_protocol",
                violation_error_message="Another dose level is open: only one level is open at a time.",
            ),
            models.CheckConstraint(
                condition=models.Q(level__gte=1),
                name="dose_level_starts_at_one",
                violation_error_message="Dose levels are numbered from 1.",
            ),
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
    history = AuditedHistory()

    class Meta:
        ordering = ["claimed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject"],
                condition=~models.Q(status="released"),
                name="one_active_slot_per_subject",
                violation_error_message="This subject already holds a dose slot: release it before claiming another.",
            ),
            models.CheckConstraint(
                condition=models.Q(status="released", released_at__isnull=False) | ~models.Q(status="released"),
                name="released_slot_has_release_time",
                violation_error_message="A released slot needs the time it was released.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.dose_level.label} ({self.get_status_display()})"


def _percent(verbose_name: str, **options) -> models.DecimalField:
    return models.DecimalField(
        verbose_name,
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        **options,
    )


def _platelets(**options) -> models.DecimalField:
    return models.DecimalField(
        max_digits=6, decimal_places=1, validators=[MinValueValidator(0)], help_text="×10⁹/L", **options
    )


class InfusionPlan(models.Model):
    """When an enrolled subject is to be infused (D0); D−1 follows in the site's calendar. Reschedules keep history."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        BLOCKED = "blocked", "Blocked at the D−1 gate (reschedule or screen failure)"
        INFUSED = "infused", "Infused"
        CANCELLED = "cancelled", "Cancelled (slot released)"

    slot = models.OneToOneField(DoseSlot, on_delete=models.PROTECT, related_name="plan")
    subject = models.ForeignKey("enrollment.Subject", on_delete=models.PROTECT, related_name="infusion_plans")
    planned_at = models.DateTimeField(help_text="Planned start of the infusion (stored in UTC).")
    d_minus_1 = models.DateField("D−1", help_text="Site-local calendar day before the planned infusion day.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    blocked_reason = models.TextField(blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["planned_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subject"],
                condition=models.Q(status__in=["scheduled", "blocked"]),
                name="one_live_plan",
                violation_error_message=(
                    "This subject already has a scheduled or blocked infusion plan: reschedule or cancel it first."
                ),
            ),
            models.CheckConstraint(
                condition=~models.Q(status="blocked") | ~models.Q(blocked_reason=""),
                name="blocked_plan_has_reason",
                violation_error_message="A blocked infusion plan needs the reason it is blocked.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} planned {format_instant(self.planned_at)} ({self.get_status_display()})"


class Reconfirmation(models.Model):
    """The D−1 platelet reconfirmation: a count drawn on the plan's D−1 and a bleeding assessment."""

    plan = models.ForeignKey(InfusionPlan, on_delete=models.PROTECT, related_name="reconfirmations")
    d_minus_1 = models.DateField("D−1", help_text="The plan's D−1 the count was drawn on (site-local).")
    drawn_at = models.DateTimeField()
    platelets = _platelets()
    bleeding = models.BooleanField(help_text="Any bleeding at the assessment.")
    bleeding_details = models.TextField(blank=True)
    cleared = models.BooleanField(help_text="In range and no bleeding: the infusion may proceed.")
    outcome_reason = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    history = AuditedHistory()

    class Meta:
        ordering = ["plan", "d_minus_1"]
        verbose_name = "D−1 reconfirmation"
        verbose_name_plural = "D−1 reconfirmations"
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "d_minus_1"],
                name="one_reconfirmation_per_d_minus_1",
                violation_error_message="A D−1 reconfirmation is already recorded for this D−1: correct it instead.",
            ),
            models.CheckConstraint(
                condition=models.Q(bleeding=False) | ~models.Q(bleeding_details=""),
                name="bleeding_has_details",
                violation_error_message="Bleeding was reported: describe it in the bleeding details.",
            ),
        ]

    def __str__(self) -> str:
        outcome = "cleared" if self.cleared else "not cleared"
        return f"D−1 {self.d_minus_1} of {self.plan.subject}: PLT {self.platelets} ({outcome})"


class PreInfusionAssessment(models.Model):
    """What is checked on D0 before the infusion: the baseline count and events since screening."""

    plan = models.ForeignKey(InfusionPlan, on_delete=models.PROTECT, related_name="assessments")
    d0 = models.DateField(help_text="The plan's D0 (site-local) this assessment belongs to.")
    baseline_platelets = _platelets()
    baseline_drawn_at = models.DateTimeField()
    transfusion_since_screening_at = models.DateTimeField(
        null=True, blank=True, help_text="Latest platelet-containing transfusion since screening (empty: none)."
    )
    thrombopoietic_since_screening_on = models.DateField(
        null=True, blank=True, help_text="Latest thrombopoietic drug since screening (empty: none)."
    )
    surgery_since_screening_on = models.DateField(
        null=True, blank=True, help_text="Latest major surgery or severe trauma since screening (empty: none)."
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    history = AuditedHistory()

    class Meta:
        ordering = ["plan", "d0"]
        verbose_name = "D0 pre-infusion assessment"
        verbose_name_plural = "D0 pre-infusion assessments"
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "d0"],
                name="one_assessment_per_d0",
                violation_error_message=(
                    "A D0 pre-infusion assessment is already recorded for this D0: correct it instead."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"D0 {self.d0} of {self.plan.subject}: baseline PLT {self.baseline_platelets}"


class Infusion(models.Model):
    """The single XJ-MK-002 injection a subject receives; D0 and the DLT window start with it."""

    class EarlyStop(models.TextChoices):
        NONE = "", "Full dose given"
        TOXICITY = "toxicity", "Stopped early for toxicity (subject stays evaluable)"
        NON_TOXICITY = "non_toxicity", "Stopped early for another reason (not evaluable, replaced)"

    subject = models.OneToOneField("enrollment.Subject", on_delete=models.PROTECT, related_name="infusion")
    slot = models.OneToOneField(DoseSlot, on_delete=models.PROTECT, related_name="infusion")
    dose_level = models.ForeignKey(DoseLevel, on_delete=models.PROTECT, related_name="infusions")
    product_lot = models.CharField(max_length=40)
    product_viable_cells = models.PositiveBigIntegerField(help_text="Viable cells in the product as prepared.")
    viability_percent = _percent("viability (%)")
    volume_ml = models.DecimalField("volume (mL)", max_digits=6, decimal_places=1, validators=[MinValueValidator(0)])
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    fraction_given_percent = _percent("fraction given (%)", default=100)
    viable_cells_given = models.PositiveBigIntegerField(help_text="Product viable cells × fraction given.")
    dose_deviation_reason = models.TextField(blank=True, help_text="Why the dose given differs from the level's.")
    timing_deviation_reason = models.TextField(
        blank=True, help_text="Why the infusion started before its planned time (a protocol deviation)."
    )
    interrupted = models.BooleanField(default=False)
    interruption_reason = models.TextField(blank=True)
    early_stop = models.CharField(max_length=15, choices=EarlyStop.choices, default=EarlyStop.NONE, blank=True)
    early_stop_reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    history = AuditedHistory()

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_at__gte=models.F("started_at")),
                name="infusion_ends_after_start",
                violation_error_message="The infusion cannot end before it started.",
            ),
            models.CheckConstraint(
                condition=models.Q(early_stop="", fraction_given_percent=100, early_stop_reason="")
                | (
                    ~models.Q(early_stop="")
                    & models.Q(fraction_given_percent__lt=100)
                    & ~models.Q(early_stop_reason="")
                ),
                name="early_stop_iff_partial_dose_with_reason",
                violation_error_message=(
                    "An infusion stopped early gives less than the full dose and says why it stopped; a full dose has "
                    "neither."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(interrupted=False, interruption_reason="")
                | models.Q(interrupted=True) & ~models.Q(interruption_reason=""),
                name="interruption_has_reason",
                violation_error_message="Give the reason for an interruption, and only for an interrupted infusion.",
            ),
            models.CheckConstraint(
                condition=models.Q(fraction_given_percent__gt=0, fraction_given_percent__lte=100),
                name="fraction_given_0_to_100",
                violation_error_message="The fraction of the dose given is more than 0 and at most 100 percent.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} infused {format_instant(self.started_at)} at {self.dose_level.label}"


class VitalSigns(models.Model):
    """Vital signs taken just before and just after the infusion."""

    class Phase(models.TextChoices):
        BEFORE = "before", "Before the infusion"
        AFTER = "after", "After the infusion"

    infusion = models.ForeignKey(Infusion, on_delete=models.PROTECT, related_name="vital_signs")
    phase = models.CharField(max_length=6, choices=Phase.choices)
    measured_at = models.DateTimeField("measured at")
    temperature_c = models.DecimalField("temperature (°C)", max_digits=3, decimal_places=1)
    heart_rate_bpm = models.PositiveSmallIntegerField("heart rate (beats/min)")
    systolic_mmhg = models.PositiveSmallIntegerField("systolic blood pressure (mmHg)")
    diastolic_mmhg = models.PositiveSmallIntegerField("diastolic blood pressure (mmHg)")
    respiratory_rate = models.PositiveSmallIntegerField("respiratory rate (breaths/min)")
    spo2_percent = models.PositiveSmallIntegerField("SpO₂ (%)", validators=[MaxValueValidator(100)])
    history = AuditedHistory()

    class Meta:
        ordering = ["infusion", "measured_at"]
        verbose_name_plural = "vital signs"
        constraints = [
            models.UniqueConstraint(
                fields=["infusion", "phase"],
                name="one_vital_signs_per_phase",
                violation_error_message="Vital signs are already recorded for this phase of the infusion.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.infusion.subject} vital signs {self.get_phase_display().lower()}"


class PostInfusionDraw(models.Model):
    """A platelet count drawn a set time after the end of the infusion (1h, 2h, 4h), flagged when off time."""

    infusion = models.ForeignKey(Infusion, on_delete=models.PROTECT, related_name="draws")
    minutes_after_end = models.PositiveSmallIntegerField()
    drawn_at = models.DateTimeField()
    platelets = _platelets()
    deviation = models.BooleanField(default=False, help_text="Drawn outside the allowed deviation.")
    deviation_reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    history = AuditedHistory()

    class Meta:
        ordering = ["infusion", "minutes_after_end"]
        verbose_name = "post-infusion draw"
        verbose_name_plural = "post-infusion draws"
        constraints = [
            models.UniqueConstraint(
                fields=["infusion", "minutes_after_end"],
                name="one_draw_per_time_point",
                violation_error_message="A post-infusion draw is already recorded at this time point.",
            ),
            models.CheckConstraint(
                condition=models.Q(deviation=False) | ~models.Q(deviation_reason=""),
                name="draw_deviation_has_reason",
                violation_error_message="A draw outside its allowed time needs the reason for the deviation.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.infusion.subject} PLT {self.time_point} after infusion: {self.platelets}"

    @property
    def time_point(self) -> str:
        """The draw's name: "1h", "2h", "4h" (or minutes when not whole hours)."""
        from dosing.rules.gate import time_point_name

        return time_point_name(self.minutes_after_end)


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
    dose_path = models.TextField(blank=True, help_text="The live dose path the engine was given.")
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
    history = AuditedHistory(m2m_fields=[members_present])

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        verbose_name = "SRC decision"
        verbose_name_plural = "SRC decisions"
        permissions = [("sign_srcdecision", "Can sign SRC decisions as a committee member")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decision="stop", dose_level__isnull=True)
                | (~models.Q(decision="stop") & models.Q(dose_level__isnull=False)),
                name="src_decision_level_matches_kind",
                violation_error_message=(
                    "A stop decision names no dose level; every other SRC decision names its target or declared level."
                ),
            ),
        ]

    def __str__(self) -> str:
        level = f" L{self.dose_level}" if self.dose_level else ""
        return f"SRC {self.meeting_date}: {self.get_decision_display()}{level}"


class SrcSignature(SignatureFields):
    """One committee member's electronic signature of a decision (re-authenticated, bound to its content)."""

    decision = models.ForeignKey(SrcDecision, on_delete=models.PROTECT, related_name="signatures")
    history = AuditedHistory()

    class Meta:
        ordering = ["signed_at", "pk"]
        verbose_name = "SRC signature"
        verbose_name_plural = "SRC signatures"
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "signer"],
                name="one_signature_per_member",
                violation_error_message="This committee member has already signed this decision.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.printed_name} — {self.meaning} — {format_instant(self.signed_at)}"


class DosingDayCorrection(models.Model):
    """A correction of recorded dosing-day data (D−1, D0 assessment, infusion times, vital signs), with its reason.

    The corrected record keeps its own history; this row says what changed and why in one place, and records the
    protocol deviation when the corrected data breaks a rule that the original had passed."""

    class Record(models.TextChoices):
        RECONFIRMATION = "reconfirmation", "D−1 reconfirmation"
        ASSESSMENT = "assessment", "D0 pre-infusion assessment"
        INFUSION = "infusion", "Infusion times"
        VITAL_SIGNS = "vital_signs", "Vital signs"

    subject = models.ForeignKey("enrollment.Subject", on_delete=models.PROTECT, related_name="dosing_corrections")
    record = models.CharField(max_length=20, choices=Record.choices)
    record_id = models.PositiveBigIntegerField("record ID")
    changes = models.JSONField(help_text="Each changed field: [old, new] as text.")
    reason = models.TextField()
    deviation = models.TextField(blank=True, help_text="The rule the corrected data breaks, and why (a deviation).")
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    corrected_at = models.DateTimeField()
    history = AuditedHistory()

    class Meta:
        ordering = ["-corrected_at", "-pk"]
        permissions = [("correct_dosingday", "Can correct recorded dosing-day data, with a reason")]

    def __str__(self) -> str:
        return f"{self.subject}: {self.get_record_display()} corrected {format_instant(self.corrected_at)}"
