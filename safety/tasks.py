"""Reminder tasks: beat runs the sweep and the dispatch; each send task delivers one notification by id.

Every task re-reads the database and is safe to run twice (a notification is claimed before it is sent).
`at` is the instant the rules are evaluated at, never earlier than the present (tests and replays pass it).
"""

from datetime import datetime

from celery import shared_task

from safety import services


def _instant(at: str | None) -> datetime:
    return services.clock(datetime.fromisoformat(at) if at else None)


@shared_task(name="safety.tasks.notifications_sweep", ignore_result=True)
def notifications_sweep(at: str | None = None) -> int:
    """Write the notifications due now and hand them to the broker; returns how many were new."""
    return len(services.notifications_sweep(now=_instant(at)))


@shared_task(name="safety.tasks.notifications_dispatch", ignore_result=True)
def notifications_dispatch(at: str | None = None) -> int:
    """Hand pending notifications (retries, or lost while the broker was down) to the broker again."""
    return len(services.notifications_dispatch(now=_instant(at)).enqueued)


@shared_task(name="safety.tasks.notification_send", ignore_result=True)
def notification_send(notification_id: int, at: str | None = None) -> str:
    """Deliver one notification at most once; returns its status afterwards."""
    return services.notification_deliver(notification_id=notification_id, now=_instant(at))
