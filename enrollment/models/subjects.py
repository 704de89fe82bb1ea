"""Subjects and their status transitions, their identifiers (kept apart), consents, screen failures and
discontinuations."""

from django.conf import settings
from django.db import models

from ctit_trial.audit import AuditedHistory
from ctit_trial.site_time import format_instant
from enrollment.models.trial import Criterion, Site


class Subject(models.Model):
    """A person in the trial, known to the service by study number only (identifiers are kept apart)."""

    class Status(models.TextChoices):
        SCREENING = "screening", "Screening"
        SCREEN_FAILED = "screen_failed", "Screen failure"
        ENROLLED = "enrolled", "Enrolled"
        DOSED = "dosed", "Dosed"
        COMPLETED = "completed", "Completed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="subjects")
    sequence = models.PositiveIntegerField(help_text="Per-site running number behind the study number.")
    study_number = models.CharField(max_length=24, unique=True, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCREENING)
    created_at = models.DateTimeField(auto_now_add=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        ordering = ["site__code", "sequence"]
        permissions = [("enroll_subject", "Can enroll subjects and record screen failures")]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "sequence"],
                name="unique_subject_sequence_per_site",
                violation_error_message="This site already has a subject with this sequence number.",
            ),
            models.CheckConstraint(
                condition=models.Q(enrolled_at__isnull=False)
                | ~models.Q(status__in=["enrolled", "dosed", "completed"]),
                name="enrolled_subject_has_enrollment_time",
                violation_error_message="An enrolled, dosed or completed subject needs the time of enrollment.",
            ),
        ]

    def __str__(self) -> str:
        return self.study_number

    def can_become(self, status: str) -> bool:
        """Whether the allowed-transitions table lets this subject move to `status`."""
        return status in SUBJECT_TRANSITIONS[self.status]


_S = Subject.Status

# The allowed status transitions; every other move is refused (HTTP 409). Each has its own service.
SUBJECT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    _S.SCREENING: (_S.ENROLLED, _S.SCREEN_FAILED, _S.WITHDRAWN),
    _S.SCREEN_FAILED: (_S.SCREENING,),  # re-screening
    _S.ENROLLED: (_S.DOSED, _S.SCREEN_FAILED, _S.WITHDRAWN),  # screen failure here: the D−1 gate
    _S.DOSED: (_S.COMPLETED, _S.WITHDRAWN),
    _S.COMPLETED: (),
    _S.WITHDRAWN: (),
}


class SubjectIdentity(models.Model):
    """A subject's direct identifiers, shown only to roles holding `enrollment.view_subjectidentity`."""

    subject = models.OneToOneField(Subject, on_delete=models.PROTECT, related_name="identity")
    full_name = models.CharField(max_length=200)
    national_id = models.CharField("national ID number", max_length=40, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    history = AuditedHistory()

    class Meta:
        verbose_name = "subject identity"
        verbose_name_plural = "subject identities"

    def __str__(self) -> str:
        return f"Identifiers of {self.subject}"


class Consent(models.Model):
    """Informed consent signed by a subject; its site-local date is the IN1 reference (age at consent)."""

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="consents")
    version = models.CharField(max_length=40, help_text="Version of the informed consent form signed.")
    signed_at = models.DateTimeField(help_text="When the subject signed (stored in UTC).")
    obtained_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    history = AuditedHistory()

    class Meta:
        ordering = ["subject", "signed_at", "pk"]

    def __str__(self) -> str:
        return f"Consent of {self.subject}, version {self.version}, signed {format_instant(self.signed_at)}"

    @property
    def signed_on(self):
        """The consent date: the site-local calendar day of the signature."""
        return self.subject.site.local_date(self.signed_at)


class ScreenFailure(models.Model):
    """A subject found not eligible (or not proceeding) at screening, with the criteria that failed."""

    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="screen_failures")
    screening = models.ForeignKey(
        "enrollment.Screening", on_delete=models.PROTECT, null=True, blank=True, related_name="failures"
    )
    evaluation = models.ForeignKey(
        "enrollment.EligibilityEvaluation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    criteria = models.ManyToManyField(Criterion, blank=True, related_name="+", help_text="Criteria that failed.")
    reason = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    history = AuditedHistory(m2m_fields=[criteria])

    class Meta:
        ordering = ["recorded_at", "pk"]

    def __str__(self) -> str:
        return f"Screen failure of {self.subject} recorded {format_instant(self.recorded_at)}"


class Discontinuation(models.Model):
    """Why and when an enrolled or dosed subject left the trial early; one per subject, whose status is withdrawn."""

    class Kind(models.TextChoices):
        WITHDRAWAL_OF_CONSENT = "withdrawal_of_consent", "Withdrawal of consent"
        LOST_TO_FOLLOW_UP = "lost_to_follow_up", "Lost to follow-up"
        DEATH = "death", "Death"
        INVESTIGATOR_DECISION = "investigator_decision", "Investigator decision"

    subject = models.OneToOneField(Subject, on_delete=models.PROTECT, related_name="discontinuation")
    kind = models.CharField(max_length=25, choices=Kind.choices)
    left_at = models.DateTimeField(
        help_text="When the subject left (stored in UTC; lost to follow-up: the last contact); its site-local day "
        "decides whether the DLT window was completed."
    )
    reason = models.TextField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField()
    history = AuditedHistory()

    class Meta:
        ordering = ["recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""),
                name="discontinuation_has_reason",
                violation_error_message="Give the reason the subject left the trial.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.subject} on {self.left_on}"

    @property
    def left_on(self):
        """The site-local calendar day the subject left."""
        return self.subject.site.local_date(self.left_at)
