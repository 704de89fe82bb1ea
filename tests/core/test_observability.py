"""Operators' view of the service: JSON log lines with the request id, user and sites, one line and no traceback
for a refused request, Prometheus metrics for the scraper alone, Celery outcomes and sweep durations counted,
and error reports that carry no clinical data."""

import io
import json
import logging
from datetime import timedelta

import pytest
import sentry_sdk
from celery import shared_task
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings
from django.urls import path
from django.utils import timezone
from prometheus_client import REGISTRY

from ctit_trial.observability.error_reports import error_reports_start
from ctit_trial.observability.logs import ClientErrorFilter, ContextFilter, Formatter
from enrollment.roles import MONITOR, STUDY_COORDINATOR
from safety.models import Notification
from tests.factories import make_site, make_staff_user, make_subject

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("roles")]
TOKEN = "scraper-token-0123456789"


def refused(request):
    raise PermissionDenied


def broken(request):
    raise RuntimeError("boom")


urlpatterns = [path("refused", refused), path("broken", broken)]


@pytest.fixture
def log_lines():
    """The JSON lines the service's console handler would write, as dicts."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.addFilter(ClientErrorFilter())
    handler.setFormatter(Formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_a_request_s_log_lines_carry_its_id_user_sites_and_path(client, log_lines):
    site = make_site(code="BJ01", name="Beijing")
    user = make_staff_user(role_key=STUDY_COORDINATOR, sites=[site], username="coord-bj")
    client.force_login(user)

    response = client.get("/api/v1/subjects/987654/", HTTP_X_REQUEST_ID="req-from-proxy-01")

    (line,) = [line for line in log_lines() if line["logger"] == "django.request"]
    assert response.status_code == 404
    assert response["X-Request-ID"] == "req-from-proxy-01"
    assert {key: line[key] for key in ("level", "request_id", "user", "sites", "method", "path", "status_code")} == {
        "level": "WARNING",
        "request_id": "req-from-proxy-01",
        "user": "coord-bj",
        "sites": "BJ01",
        "method": "GET",
        "path": "/api/v1/subjects/987654/",
        "status_code": 404,
    }
    assert "exc_info" not in line


def test_an_incoming_request_id_that_could_forge_a_line_is_replaced(client):
    response = client.get("/livez", HTTP_X_REQUEST_ID='x"\n{"level": "INFO"}')

    assert response["X-Request-ID"] != 'x"\n{"level": "INFO"}'
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.urls("tests.core.test_observability")
def test_a_refused_request_is_one_line_without_a_traceback(client, log_lines):
    client.force_login(make_staff_user(role_key=MONITOR, sites=[], username="monitor"))

    response = client.get("/refused")

    lines = log_lines()
    assert response.status_code == 403
    assert [(line["logger"], line["message"], line.get("exc_info")) for line in lines] == [
        ("django.request", "Forbidden (Permission denied): /refused", None)
    ]
    assert lines[0]["sites"] == ""  # a monitor belongs to no site (reads all)


@pytest.mark.urls("tests.core.test_observability")
def test_a_server_error_keeps_its_traceback(log_lines):
    response = Client(raise_request_exception=False).get("/broken")

    (line,) = log_lines()
    assert response.status_code == 500
    assert line["level"] == "ERROR"
    assert "RuntimeError: boom" in line["exc_info"]


# --- metrics


def test_metrics_answer_only_the_scraper_with_the_token(client):
    with override_settings(METRICS_TOKEN=TOKEN):
        anonymous = client.get("/metrics")
        wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
        scraper = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    unset = client.get("/metrics", HTTP_AUTHORIZATION="Bearer ")

    assert (anonymous.status_code, wrong.status_code, scraper.status_code, unset.status_code) == (404, 404, 200, 404)
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in scraper.content.decode()


def test_the_notification_backlog_is_read_from_the_database_at_each_scrape(client):
    site = make_site(code="BJ01", name="Beijing")
    subject = make_subject(site=site)
    recipient = make_staff_user(role_key=STUDY_COORDINATOR, sites=[site], username="coord-bj")
    now = timezone.now()
    for minutes, status in ((-30, "pending"), (-10, "pending"), (60, "pending"), (-5, "uncertain"), (-90, "sent")):
        Notification.objects.create(
            recipient=recipient,
            recipient_email=recipient.email,
            kind="sae_reminder",
            subject=subject,
            site=site,
            object_ref=f"subject:{subject.pk}",
            occasion=f"sae_reminder:{subject.pk}:{minutes}",
            due_at=now + timedelta(minutes=minutes),
            status=status,
            sent_at=now if status == "sent" else None,
            created_at=now,
        )

    with override_settings(METRICS_TOKEN=TOKEN):
        text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content.decode()

    lines = set(text.splitlines())
    assert {
        'ctit_notifications{status="pending"} 3.0',
        'ctit_notifications{status="sending"} 0.0',
        'ctit_notifications{status="uncertain"} 1.0',
        "ctit_notifications_due 2.0",
    } <= lines


@shared_task(name="tests.observability.fails")
def fails():
    raise ValueError("a task that fails")


def tasks_finished(task: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("ctit_celery_tasks_total", {"task": task, "outcome": outcome}) or 0.0


def test_celery_task_outcomes_and_the_sweep_duration_are_counted():
    from ctit_trial.tasks import worker_heartbeat
    from safety.tasks import notifications_sweep

    sweeps = REGISTRY.get_sample_value("ctit_notification_sweep_seconds_count") or 0.0
    before = tasks_finished("ctit_trial.tasks.worker_heartbeat", "success"), tasks_finished(fails.name, "failure")

    worker_heartbeat.apply()
    fails.apply()
    notifications_sweep.apply()

    after = tasks_finished("ctit_trial.tasks.worker_heartbeat", "success"), tasks_finished(fails.name, "failure")
    assert (after[0] - before[0], after[1] - before[1]) == (1.0, 1.0)
    assert REGISTRY.get_sample_value("ctit_notification_sweep_seconds_count") == sweeps + 1


# --- error reports


class CapturedEnvelopes(sentry_sdk.transport.Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.events = []

    def capture_envelope(self, envelope):
        self.events += [item.payload.json for item in envelope.items if item.type == "event"]


@pytest.fixture
def reports():
    transport = CapturedEnvelopes()
    error_reports_start(
        dsn="https://public@errors.example.org/1",
        environment="test",
        release="test",
        traces_sample_rate=0.0,
        transport=transport,
    )
    yield transport.events
    sentry_sdk.init()  # no DSN: reporting off again for the rest of the run


@pytest.mark.urls("tests.core.test_observability")
def test_an_error_report_names_the_failure_but_carries_no_clinical_data(reports):
    site = make_site(code="BJ01", name="Beijing")
    client = Client(raise_request_exception=False)
    client.force_login(make_staff_user(role_key=STUDY_COORDINATOR, sites=[site], username="coord-bj"))

    client.get("/broken?name=Zhang+Wei&id_number=110101199003071234", HTTP_COOKIE="extra=1")
    sentry_sdk.flush()

    (event,) = reports
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["transaction"] == "/broken"
    assert set(event.get("request", {})) <= {"method", "url"}
    assert set(event.get("user", {})) <= {"id"}
    assert "Zhang" not in json.dumps(event) and "110101199003071234" not in json.dumps(event)
