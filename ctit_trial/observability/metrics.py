"""Prometheus metrics: request latency (django-prometheus), Celery task outcomes, the reminder sweep's duration,
and the notification backlog read from the database at each scrape.

The web app serves /metrics to a scraper holding METRICS_TOKEN (bearer); without a token set, /metrics is not
there. A worker serves its own on CELERY_METRICS_PORT. Under several processes (gunicorn workers, Celery's
prefork pool) PROMETHEUS_MULTIPROC_DIR must name a directory they share: prometheus-client adds their samples up.
"""

import hmac
import os
import time
from collections.abc import Iterator

import prometheus_client
from celery import signals
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily

from ctit_trial.observability.logs import task_context

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # a one-off command in a web or worker container writes there too
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
TASKS = Counter("ctit_celery_tasks", "Celery tasks finished, by task name and outcome.", ["task", "outcome"])
SWEEP_SECONDS = Histogram(
    "ctit_notification_sweep_seconds",
    "Duration of a reminder sweep (finding due reminders, writing them, handing them to the broker).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
_started: dict[str, float] = {}


class NotificationBacklog:
    """ctit_notifications: rows not yet delivered, by status, and those already due (the backlog to alert on)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from safety.models import Notification  # noqa: PLC0415 (collectors are built before apps load)

        waiting = Notification.Status.PENDING, Notification.Status.SENDING, Notification.Status.UNCERTAIN
        by_status = GaugeMetricFamily(
            "ctit_notifications", "Notifications not yet delivered, by status.", labels=["status"]
        )
        due = GaugeMetricFamily("ctit_notifications_due", "Pending notifications whose time has come, not yet sent.")
        try:
            counts = dict(Notification.objects.filter(status__in=waiting).values_list("status").annotate(n=Count("pk")))
            overdue = Notification.objects.filter(status=Notification.Status.PENDING, due_at__lte=timezone.now())
            due_count = overdue.count()
        except DatabaseError:
            return  # the database is down: /healthz says so; the scrape still answers
        for status in waiting:
            by_status.add_metric([status], counts.get(status, 0))
        due.add_metric([], due_count)
        yield from (by_status, due)


def scrape_registry() -> CollectorRegistry:
    """This process's metrics (or all processes' under PROMETHEUS_MULTIPROC_DIR) plus the database's backlog."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessMetrics())
    registry.register(NotificationBacklog())
    return registry


class _ProcessMetrics:
    def collect(self):
        yield from prometheus_client.REGISTRY.collect()


def metrics_view(request):
    """GET /metrics for the scraper holding METRICS_TOKEN; a 404 to anyone else (its existence is not told)."""
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not token or not hmac.compare_digest(offered.encode(), token.encode()):
        raise Http404
    return HttpResponse(
        prometheus_client.generate_latest(scrape_registry()), content_type=prometheus_client.CONTENT_TYPE_LATEST
    )


@signals.task_prerun.connect(dispatch_uid="ctit_metrics_task_prerun")
def _task_started(task_id=None, task=None, **_):
    task_context.set((task.name, task_id))
    _started[task_id] = time.monotonic()


@signals.task_postrun.connect(dispatch_uid="ctit_metrics_task_postrun")
def _task_finished(task_id=None, task=None, state=None, **_):
    TASKS.labels(task=task.name, outcome=(state or "UNKNOWN").lower()).inc()
    started = _started.pop(task_id, None)
    if task.name == "safety.tasks.notifications_sweep" and started is not None:
        SWEEP_SECONDS.observe(time.monotonic() - started)
    task_context.set(("", ""))


@signals.worker_ready.connect(dispatch_uid="ctit_metrics_worker_port")
def _serve_worker_metrics(**_):
    """A worker's own /metrics on CELERY_METRICS_PORT (task outcomes and sweep durations happen there)."""
    port = settings.CELERY_METRICS_PORT
    if port:
        prometheus_client.start_http_server(port, registry=scrape_registry())
