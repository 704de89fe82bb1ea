"""GET /healthz reports database, broker and worker status, and notices a stopped broker."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from ctit_trial.celery import app as celery_app
from ctit_trial.tasks import worker_heartbeat
from tests.services import private_redis

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_url():
    """Point the Celery app at a broker URL for one test, then restore it."""
    original = celery_app.conf.broker_url

    def use(url: str) -> None:
        celery_app.conf.broker_url = url

    yield use
    celery_app.conf.broker_url = original


@pytest.mark.redis
def test_all_green_then_broker_stopped(admin_client, broker_url):
    client = admin_client  # staff see each component's details
    with private_redis() as (url, stop_redis):
        broker_url(url)
        worker_heartbeat()

        healthy = client.get("/healthz")
        stop_redis()
        broken = client.get("/healthz")

    assert healthy.status_code == 200
    assert healthy.json()["status"] == "ok"
    assert healthy.json()["broker"] == {"ok": True, "transport": "redis", "detail": "reachable"}
    assert broken.status_code == 503
    assert broken.json()["status"] == "unavailable"
    assert broken.json()["broker"]["ok"] is False
    assert broken.json()["broker"]["detail"].startswith("OperationalError")
    assert broken.json()["database"]["ok"] is True


def test_no_worker_heartbeat_is_reported(admin_client, broker_url):
    broker_url("memory://")

    body = admin_client.get("/healthz").json()

    assert body["worker"] == {"ok": False, "last_heartbeat": None, "detail": "no heartbeat from a worker yet"}


def test_stale_worker_heartbeat_is_reported(admin_client, broker_url, settings):
    client = admin_client
    broker_url("memory://")
    settings.WORKER_HEARTBEAT_MAX_AGE_SECONDS = 120
    with time_machine.travel(timezone.now() - timedelta(minutes=5), tick=False):
        worker_heartbeat()

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["worker"]["ok"] is False
    assert response.json()["worker"]["detail"] == "last heartbeat 300 s ago"


@pytest.mark.redis
def test_anonymous_callers_see_only_ok_or_unavailable(client, broker_url, caplog):
    with private_redis() as (url, stop_redis):
        broker_url(url)
        worker_heartbeat()
        stop_redis()
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unavailable", "worker": "ok"}
    assert "Error" not in response.content.decode()
    assert "healthz: broker unavailable: OperationalError" in caplog.text  # the details go to the log


def test_non_staff_users_see_no_details(client, broker_url, django_user_model):
    broker_url("memory://")
    client.force_login(django_user_model.objects.create_user("plain", password="x-unused-x", is_staff=False))

    body = client.get("/healthz").json()

    assert body == {"status": "unavailable", "database": "ok", "broker": "ok", "worker": "unavailable"}
