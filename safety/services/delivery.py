"""Delivering one notification at most once: claim the row, re-check it, send it, record what happened.

A claimed row is `sending` until the outcome is recorded. Whatever fails before the SMTP server has the message
is retried later with backoff; a refusal by the server is final for 5xx and retried for 4xx; anything that leaves
the outcome unknown (a dropped connection mid-transfer, a killed worker) becomes `uncertain`, never re-sent alone.
"""

import logging
import smtplib
from contextlib import suppress
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string

from ctit_trial.celery import app as celery_app
from safety.models import Notification
from safety.selectors import messages
from safety.selectors import notifications as selectors

logger = logging.getLogger("safety.notifications")
Status = Notification.Status
SEND_TASK = "safety.tasks.notification_send"
BROKER_TIMEOUT = 2  # seconds to reach the broker before leaving the rows to the dispatch sweep


def enqueue_sends(ids: list[int], *, at: datetime) -> int:
    """Hand send tasks to the broker; when it is down, leave the rows for the dispatch sweep (never raises)."""
    handed = 0
    try:
        with celery_app.connection_for_write() as connection:
            # Bounded: kombu would otherwise retry an unreachable broker forever, holding the caller.
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT)
            for pk in ids:
                options = {"args": [pk], "kwargs": {"at": at.isoformat()}, "retry": False}
                celery_app.send_task(SEND_TASK, connection=connection, **options)
                handed += 1
    except Exception as error:  # the broker is down: the rows stay pending, dispatch hands them over later
        left = ids[handed:]
        logger.warning("Broker unavailable (%s): %d notification(s) left for the dispatch sweep", error, len(left))
        Notification.objects.filter(pk__in=left, status=Status.PENDING).update(enqueued_at=None)
    return handed


def message_id_for(notification: Notification) -> str:
    """A Message-ID derived from the row: a retry of the same row carries the same id (receivers can dedupe)."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "ctit-trial.local"
    return f"<notification-{notification.pk}@{domain}>"


@transaction.atomic
def _claim(pk: int, *, now: datetime) -> Notification | None:
    """Move a due pending row to `sending` (one worker wins), or cancel it when it no longer applies."""
    ready = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    rows = Notification.objects.select_for_update(skip_locked=True, of=("self",)).select_related(
        "recipient", "subject__site", "site", "resend_of"
    )
    row = rows.filter(ready, pk=pk, status=Status.PENDING).first()
    if row is None:
        return None
    reason = selectors.stale_reason(row, now=now)
    if reason:
        row.status, row.cancelled_reason = Status.CANCELLED, reason
        row.save(update_fields=["status", "cancelled_reason"])
        return row
    row.status, row.attempts, row.claimed_at = Status.SENDING, row.attempts + 1, now
    row.message_id = message_id_for(row)
    row.save(update_fields=["status", "attempts", "claimed_at", "message_id"])
    return row


def render_message(notification: Notification, *, now: datetime) -> EmailMultiAlternatives:
    """The email of a notification: text and HTML from templates/notifications/<kind>.txt|.html."""
    context = messages.message_context(notification, now=now)
    message = EmailMultiAlternatives(
        subject=f"[{context['protocol_code']}] {context['headline']}",
        body=render_to_string(f"notifications/{notification.kind}.txt", context),
        to=[notification.recipient_email],
        headers={"Message-ID": notification.message_id},
    )
    message.attach_alternative(render_to_string(f"notifications/{notification.kind}.html", context), "text/html")
    return message


def _finish(notification: Notification, *, states=(Status.SENDING,), **values) -> None:
    Notification.objects.filter(pk=notification.pk, status__in=states).update(**values)


def _retry_or_fail(notification: Notification, error: Exception, *, now: datetime) -> str:
    """Not delivered: try again later with exponential backoff, or give up after the last attempt."""
    text = f"{type(error).__name__}: {error}"
    if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        logger.error("Notification %s failed after %d attempts: %s", notification.pk, notification.attempts, text)
        last_error = f"Gave up after {notification.attempts} attempts: {text}"
        _finish(notification, status=Status.FAILED, next_attempt_at=None, last_error=last_error)
        return Status.FAILED
    delay = settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** (notification.attempts - 1)
    retry_at = now + timedelta(seconds=min(delay, settings.NOTIFICATION_RETRY_MAX_SECONDS))
    _finish(notification, status=Status.PENDING, next_attempt_at=retry_at, enqueued_at=None, last_error=text)
    return Status.PENDING


def _refusal_codes(error: smtplib.SMTPException) -> list[int]:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return [code for code, _ in error.recipients.values()]
    return [error.smtp_code]


def _refused(notification: Notification, error: smtplib.SMTPException, *, now: datetime) -> str:
    """The server said no: 4xx is temporary (retry later), 5xx is permanent (reported, not retried)."""
    if all(400 <= code < 500 for code in _refusal_codes(error)):
        return _retry_or_fail(notification, error, now=now)
    text = f"Refused by the mail server ({type(error).__name__}): {error}"
    logger.error("Notification %s to %s permanently refused: %s", notification.pk, notification.recipient_email, text)
    _finish(notification, status=Status.FAILED, next_attempt_at=None, last_error=text)
    return Status.FAILED


def _transfer(notification: Notification, message: EmailMultiAlternatives, connection, *, now: datetime) -> str:
    """Send on an open connection and record the outcome."""
    try:
        connection.send_messages([message])
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as error:
        return _refused(notification, error, now=now)
    except Exception as error:  # cut off mid-transfer: the server may have the message
        _finish(notification, status=Status.UNCERTAIN, last_error=f"{type(error).__name__}: {error}")
        return Status.UNCERTAIN
    finally:
        with suppress(Exception):
            connection.close()
    _finish(notification, states=(Status.SENDING, Status.UNCERTAIN), status=Status.SENT, sent_at=now, last_error="")
    return Status.SENT


def notification_deliver(*, notification_id: int, now: datetime) -> str:
    """Claim, re-check, send and record one notification; returns its status afterwards (safe to run twice)."""
    notification = _claim(notification_id, now=now)
    if notification is None:
        status = Notification.objects.filter(pk=notification_id).values_list("status", flat=True).first()
        return f"not claimable ({status or 'no such notification'})"
    if notification.status != Status.SENDING:
        return notification.status
    try:
        message = render_message(notification, now=now)
        connection = get_connection(fail_silently=False)
        connection.open()
    except Exception as error:  # nothing reached the server: safe to try again
        return _retry_or_fail(notification, error, now=now)
    return _transfer(notification, message, connection, now=now)
