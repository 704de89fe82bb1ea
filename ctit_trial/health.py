"""GET /healthz: is the database reachable, the broker reachable, and a worker alive?"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ctit_trial.celery import app as celery_app
from ctit_trial.tasks import WORKER_HEARTBEAT_KEY

BROKER_TIMEOUT_SECONDS = 2
logger = logging.getLogger(__name__)


def database_status() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # health reports any failure, it must not raise
        return {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "detail": connection.vendor}


def broker_status() -> dict:
    transport = celery_app.conf.broker_url.split("://", 1)[0]
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:
        return {"ok": False, "transport": transport, "detail": f"{type(exc).__name__}: {exc}"}
    return {"ok": True, "transport": transport, "detail": "reachable"}


def worker_status(now: datetime) -> dict:
    """A worker is alive when it ran the beat-scheduled heartbeat task recently."""
    try:
        stamp = cache.get(WORKER_HEARTBEAT_KEY)
    except Exception as exc:
        return {"ok": False, "last_heartbeat": None, "detail": f"{type(exc).__name__}: {exc}"}
    if stamp is None:
        return {"ok": False, "last_heartbeat": None, "detail": "no heartbeat from a worker yet"}
    age = now - datetime.fromisoformat(stamp)
    max_age = timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS)
    detail = f"last heartbeat {int(age.total_seconds())} s ago"
    return {"ok": age <= max_age, "last_heartbeat": stamp, "detail": detail}


def public_view(checks: dict) -> dict:
    """Only ok/unavailable per component: error texts name hosts, drivers and versions."""
    return {name: "ok" if check["ok"] else "unavailable" for name, check in checks.items()}


@never_cache
@require_GET
def healthz(request):
    """200 when database, broker and worker are all fine, else 503; details for staff and in the log only."""
    checks = {
        "database": database_status(),
        "broker": broker_status(),
        "worker": worker_status(timezone.now()),
    }
    for name, check in checks.items():
        if not check["ok"]:
            logger.warning("healthz: %s unavailable: %s", name, check["detail"])
    healthy = all(check["ok"] for check in checks.values())
    shown = checks if request.user.is_authenticated and request.user.is_staff else public_view(checks)
    body = {"status": "ok" if healthy else "unavailable", **shown}
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
@require_GET
def livez(request):
    """200 while the web process answers (container liveness; no dependencies checked)."""
    return JsonResponse({"status": "ok"})
