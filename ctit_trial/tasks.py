"""Service-level tasks: the worker heartbeat that /healthz reads."""

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

WORKER_HEARTBEAT_KEY = "health:worker-heartbeat"


@shared_task(name="ctit_trial.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> str:
    """Record that a worker picked up a beat-scheduled task just now (idempotent)."""
    stamp = timezone.now().isoformat()
    cache.set(WORKER_HEARTBEAT_KEY, stamp, timeout=None)
    return stamp
