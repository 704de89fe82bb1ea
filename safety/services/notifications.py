"""Reminder notifications: the sweep writes what is due, date changes cancel what no longer applies, staff resend.

Exactly once (docs/adr/0008): one row per (recipient, kind, occasion) under a unique constraint, written in bulk
with conflicts ignored, so two sweeps at once write each row once; sending is in safety/services/delivery.py.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ctit_trial.audit import require_reason
from ctit_trial.errors import Conflict, PermissionDenied
from enrollment.models import Subject
from safety.models import Notification
from safety.rules.reminders import SCHEDULE_KINDS
from safety.selectors import notifications as log_selectors
from safety.selectors import reminders as selectors
from safety.services.delivery import enqueue_sends

logger = logging.getLogger("safety.notifications")
Status = Notification.Status
RESEND_PERMISSION = "safety.resend_notification"
RESENDABLE = (Status.FAILED, Status.UNCERTAIN, Status.SENT)


def clock(at: datetime | None) -> datetime:
    """The instant to act at: the one given (a sweep's, a test's), never earlier than the present."""
    now = timezone.now()
    return now if at is None or at < now else at


def _enqueue_after_commit(ids: list[int], *, at: datetime) -> None:
    """Hand the rows to the broker once they are committed; a failure there is logged, never raised."""
    if ids:
        transaction.on_commit(lambda: enqueue_sends(ids, at=at), robust=True)


def _draft(reminder: selectors.DueReminder, recipient: selectors.Recipient, *, now: datetime, sweep_id: UUID):
    occasion = reminder.occasion
    return Notification(
        recipient_id=recipient.user_id,
        recipient_email=recipient.email,
        kind=occasion.kind.value,
        subject_id=reminder.subject_id,
        visit_id=reminder.visit_id,
        site_id=reminder.site_id or recipient.site_id,
        object_ref=occasion.object_ref,
        occasion=occasion.key,
        due_at=occasion.due_at,
        sweep_id=sweep_id,
        enqueued_at=now,
        created_at=now,
    )


@transaction.atomic
def notifications_sweep(*, now: datetime) -> list[int]:
    """Write a pending notification for each recipient of each reminder due at `now`; returns the new rows' ids."""
    sweep_id, directory, due = uuid4(), selectors.recipient_directory(), selectors.reminders_due(now=now)
    written = log_selectors.notification_keys({reminder.occasion.key for reminder in due})
    drafts = [
        _draft(reminder, recipient, now=now, sweep_id=sweep_id)
        for reminder in due
        for recipient in directory.recipients(reminder)
        if (recipient.user_id, reminder.occasion.kind.value, reminder.occasion.key) not in written
    ]
    if not drafts:
        return []
    Notification.objects.bulk_create(drafts, ignore_conflicts=True, batch_size=2000)  # a concurrent sweep's win
    ids = list(Notification.objects.filter(sweep_id=sweep_id).order_by("pk").values_list("pk", flat=True))
    _enqueue_after_commit(ids, at=now)
    return ids


def _cancel_irrelevant(rows: Iterable[Notification], *, reason: str, now: datetime) -> int:
    """Cancel each pending row whose occasion no longer applies, saying why; keep the others."""
    cancelled = 0
    for row in rows:
        why = log_selectors.stale_reason(row, now=now)
        if why:
            row.status, row.cancelled_reason = Status.CANCELLED, f"{reason}: {why}"
            row.save(update_fields=["status", "cancelled_reason"])
            cancelled += 1
    return cancelled


def _pending_for_update():
    return Notification.objects.select_for_update(of=("self",)).select_related("recipient", "resend_of")


@transaction.atomic
def notifications_cancel_stale(*, object_ref: str, reason: str, now: datetime | None = None) -> int:
    """Cancel the pending notifications about one object that its change made irrelevant; returns how many."""
    rows = _pending_for_update().filter(object_ref=object_ref, status=Status.PENDING).order_by("pk")
    return _cancel_irrelevant(rows, reason=reason, now=now or timezone.now())


@transaction.atomic
def notifications_cancel_for_subject(*, subject: Subject, reason: str, kinds: Iterable[str] | None = None) -> int:
    """Cancel the subject's pending D−1 and visit reminders (or the kinds given) that no longer apply."""
    # Reminders that still apply (a reschedule within the same D−1) are kept; SAE and DLT alerts follow the AE.
    kinds = list(kinds or SCHEDULE_KINDS)
    rows = _pending_for_update().filter(subject=subject, status=Status.PENDING, kind__in=kinds).order_by("pk")
    return _cancel_irrelevant(rows, reason=reason, now=timezone.now())


def _resend_row(original: Notification, *, actor: AbstractBaseUser, reason: str, now: datetime) -> Notification:
    """A new pending row for the same occasion (its own key and Message-ID), to the recipient's current address."""
    return Notification(
        recipient=original.recipient,
        recipient_email=original.recipient.email,
        kind=original.kind,
        subject_id=original.subject_id,
        visit_id=original.visit_id,
        site_id=original.site_id,
        object_ref=original.object_ref,
        occasion=f"{original.occasion}#resend-{original.resends.count() + 1}",
        due_at=original.due_at,
        resend_of=original,
        requested_by=actor,
        request_reason=reason,
        enqueued_at=now,
        created_at=now,
    )


@transaction.atomic
def notification_resend(*, actor: AbstractBaseUser, notification: Notification, reason: str | None) -> Notification:
    """Send a failed, uncertain or sent message again, as a new row recording who asked and why."""
    reason = require_reason(reason)
    if not actor.has_perm(RESEND_PERMISSION):
        raise PermissionDenied("You may not resend reminder emails.")
    row = Notification.objects.select_for_update().get(pk=notification.pk)
    if row.status not in RESENDABLE:
        raise Conflict(f"This message is {row.status}: only failed, uncertain or sent messages can be resent.")
    original = Notification.objects.select_for_update().select_related("recipient").get(pk=row.resend_of_id or row.pk)
    now = timezone.now()
    resend = _resend_row(original, actor=actor, reason=reason, now=now)
    resend.save()
    _enqueue_after_commit([resend.pk], at=now)
    return resend


@dataclass(frozen=True)
class Dispatch:
    """What a dispatch run did: rows found stuck mid-delivery, rows handed to the broker."""

    uncertain: list[int]
    enqueued: list[int]


def _mark_uncertain(*, now: datetime) -> list[int]:
    """Rows a worker claimed and never finished: the message may or may not have gone, so a human decides."""
    cutoff = now - timedelta(seconds=settings.NOTIFICATION_SENDING_TIMEOUT_SECONDS)
    stuck = Notification.objects.select_for_update(skip_locked=True).filter(
        status=Status.SENDING, claimed_at__lt=cutoff
    )
    ids = list(stuck.values_list("pk", flat=True))
    if ids:
        Notification.objects.filter(pk__in=ids, status=Status.SENDING).update(
            status=Status.UNCERTAIN,
            last_error="The worker stopped while sending: the message may or may not have been delivered. "
            "Check with the recipient, then resend if needed.",
        )
        logger.error("Notifications left mid-delivery by a stopped worker, marked uncertain: %s", ids)
    return ids


@transaction.atomic
def notifications_dispatch(*, now: datetime) -> Dispatch:
    """Mark stuck deliveries uncertain, and hand pending rows (new, retries, lost in the broker) to the broker."""
    uncertain = _mark_uncertain(now=now)
    recently = now - timedelta(seconds=settings.NOTIFICATION_REDISPATCH_SECONDS)
    rows = log_selectors.notifications_to_dispatch(
        now=now, enqueued_before=recently, limit=settings.NOTIFICATION_DISPATCH_BATCH
    )
    ids = list(rows.values_list("pk", flat=True))
    Notification.objects.filter(pk__in=ids).update(enqueued_at=now)
    _enqueue_after_commit(ids, at=now)
    return Dispatch(uncertain=uncertain, enqueued=ids)
