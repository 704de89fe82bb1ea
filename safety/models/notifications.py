"""The delivery log of reminder emails: one row per (recipient, kind, occasion), claimed before it is sent."""

from django.conf import settings
from django.db import models

from safety.rules.reminders import KIND_LABELS, ReminderKind


class Notification(models.Model):
    """One email to one recipient about one occasion; the unique key makes every reminder exactly-once."""

    # Not clinical data (no history): rows are written in bulk by the sweep and moved through their states by the
    # sender. Status moves: pending → sending → sent | failed | pending (retry later) | uncertain;
    # pending → cancelled. A row left in `sending` by a dead worker becomes `uncertain`, never re-sent by itself.

    Kind = models.TextChoices("Kind", [(kind.name, (kind.value, KIND_LABELS[kind])) for kind in ReminderKind])

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (not retried)"
        CANCELLED = "cancelled", "Cancelled (no longer relevant)"
        UNCERTAIN = "uncertain", "Uncertain (worker stopped mid-delivery: check, then resend)"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications")
    recipient_email = models.EmailField(help_text="The address when the row was written.")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    subject = models.ForeignKey(
        "enrollment.Subject", on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )
    site = models.ForeignKey(
        "enrollment.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The site whose local time the message uses (the recipient's, for trial-wide alerts).",
    )
    visit = models.ForeignKey(
        "safety.Visit", on_delete=models.PROTECT, null=True, blank=True, related_name="notifications"
    )
    object_ref = models.CharField(max_length=40, help_text="What it is about: visit:12, plan:3, ae:7, escalation.")
    occasion = models.CharField(max_length=200, help_text="The object and the dates the reminder is about.")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Retry not before (after an error).")
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="Last handed to the broker.")
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a worker started sending.")
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField("Message-ID", max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    cancelled_reason = models.TextField(blank=True)
    sweep_id = models.UUIDField(
        "sweep ID", null=True, blank=True, db_index=True, help_text="The sweep that wrote the row."
    )
    resend_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="resends")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    request_reason = models.TextField(blank=True, help_text="Why a resend was asked for.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-due_at", "-pk"]
        permissions = [("resend_notification", "Can resend a reminder email")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "occasion"],
                name="one_notification_per_occasion",
                violation_error_message="This reminder already exists for this recipient and occasion.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="sent_notification_has_time",
                violation_error_message="A sent notification needs the time it was sent.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="cancelled") | ~models.Q(cancelled_reason=""),
                name="cancelled_notification_has_reason",
                violation_error_message="A cancelled notification needs the reason it was cancelled.",
            ),
            models.CheckConstraint(
                condition=models.Q(resend_of__isnull=True) | ~models.Q(request_reason=""),
                name="resend_has_reason",
                violation_error_message="A resend needs the reason it was asked for.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_dispatch"),
            models.Index(fields=["object_ref", "status"], name="notification_object"),
            models.Index(fields=["subject", "status"], name="notification_subject"),
            models.Index(fields=["occasion"], name="notification_occasion"),
        ]

    def __str__(self) -> str:
        about = f" about {self.subject}" if self.subject_id else ""
        return f"{self.get_kind_display()}{about} to {self.recipient_email} ({self.get_status_display().lower()})"
