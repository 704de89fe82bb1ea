"""Delivering a notification on a real SMTP server (aiosmtpd on loopback): at most once, retries, refusals, resends."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from ctit_trial.audit import REASON_REQUIRED
from ctit_trial.errors import Conflict, InvalidInput, PermissionDenied
from safety import services, tasks
from safety.models import Notification
from tests.safety.reminder_world import build_world, enrolled_subject, make_plan
from tests.services import celery_broker, free_port, smtp_server

pytestmark = pytest.mark.django_db
MORNING = datetime(2030, 3, 10, 0, 0, tzinfo=UTC)  # 08:00 on D−1 in Shanghai
COORDINATOR, INVESTIGATOR = "coordinator.bj@example.org", "investigator.bj@example.org"


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, used through Django's SMTP backend."""
    with smtp_server() as (handler, url):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", int(url.rsplit(":", 1)[1])
        settings.EMAIL_TIMEOUT = 5
        yield handler


@pytest.fixture
def world(time_machine):
    time_machine.move_to(datetime(2030, 3, 1, tzinfo=UTC), tick=False)
    world = build_world()
    make_plan(enrolled_subject(world.shanghai), datetime(2030, 3, 11, 1, 0, tzinfo=UTC))
    time_machine.move_to(MORNING, tick=False)
    return world


@pytest.fixture
def rows(world) -> dict[str, Notification]:
    """The two "draw today" notifications of the Shanghai team, pending."""
    services.notifications_sweep(now=MORNING)
    return {row.recipient_email: row for row in Notification.objects.all()}


def send(row: Notification, now: datetime = MORNING) -> str:
    """Run the send task in-process, as the worker would."""
    return tasks.notification_send(row.pk, at=now.isoformat())


def reread(row: Notification) -> Notification:
    return Notification.objects.get(pk=row.pk)


def test_a_task_run_twice_sends_the_message_once_with_its_own_message_id(rows, smtp):
    row = rows[COORDINATOR]

    first, second = send(row), send(row)

    assert (first, second) == ("sent", "not claimable (sent)")
    assert smtp.message_ids() == [f"<notification-{row.pk}@ctit-trial.local>"]
    row = reread(row)
    assert (row.status, row.attempts, row.sent_at, row.message_id) == ("sent", 1, MORNING, smtp.message_ids()[0])


def test_a_permanently_refused_address_is_reported_and_never_retried(rows, smtp):
    smtp.refuse[INVESTIGATOR] = "550 5.1.1 No such mailbox"
    row = rows[INVESTIGATOR]

    status = send(row)
    dispatched = services.notifications_dispatch(now=MORNING + timedelta(days=1))

    row = reread(row)
    assert (status, row.status, row.attempts, row.next_attempt_at) == ("failed", "failed", 1, None)
    assert row.last_error == (
        "Refused by the mail server (SMTPRecipientsRefused): "
        "{'investigator.bj@example.org': (550, b'5.1.1 No such mailbox')}"
    )
    assert row.pk not in dispatched.enqueued
    assert smtp.accepted == []


def test_a_temporary_refusal_is_retried_after_a_minute_with_the_same_message_id(rows, smtp):
    smtp.refuse[INVESTIGATOR] = "451 4.7.1 Greylisted, try again later"
    row = rows[INVESTIGATOR]
    send(row)
    waiting = reread(row)
    early = services.notifications_dispatch(now=MORNING + timedelta(seconds=59)).enqueued
    due = services.notifications_dispatch(now=MORNING + timedelta(seconds=60)).enqueued
    del smtp.refuse[INVESTIGATOR]

    status = send(row, MORNING + timedelta(seconds=60))

    assert (waiting.status, waiting.attempts, waiting.next_attempt_at) == (
        "pending",
        1,
        MORNING + timedelta(seconds=60),
    )
    assert waiting.last_error.startswith("SMTPRecipientsRefused: {'investigator.bj@example.org': (451, ")
    assert (row.pk in early, row.pk in due) == (False, True)
    assert (status, reread(row).attempts) == ("sent", 2)
    assert smtp.message_ids() == [f"<notification-{row.pk}@ctit-trial.local>"]


def test_an_unreachable_server_is_retried_with_doubling_delays_then_given_up(rows, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    row, now, delays = rows[COORDINATOR], MORNING, []

    for _ in range(6):
        send(row, now)
        row = reread(row)
        if row.next_attempt_at:
            delays.append(int((row.next_attempt_at - now).total_seconds()))
            now = row.next_attempt_at

    assert delays == [60, 120, 240, 480, 960]
    assert (row.status, row.attempts) == ("failed", 6)
    assert row.last_error.startswith("Gave up after 6 attempts: ConnectionRefusedError: [Errno 111]")


def test_a_connection_cut_mid_transfer_is_uncertain_and_only_a_person_resends_it(rows, smtp, world):
    smtp.drop.add(COORDINATOR)
    row = rows[COORDINATOR]

    status = send(row)
    dispatched = services.notifications_dispatch(now=MORNING + timedelta(hours=1))
    smtp.drop.clear()
    resend = services.notification_resend(actor=_superuser(), notification=reread(row), reason="Checked: not received")
    resent = send(resend)

    row = reread(row)
    assert (status, row.status, row.pk in dispatched.enqueued) == ("uncertain", "uncertain", False)
    assert row.last_error.startswith("SMTPServerDisconnected")
    assert (resent, resend.occasion, resend.request_reason) == (
        "sent",
        f"{row.occasion}#resend-1",
        "Checked: not received",
    )
    assert smtp.message_ids() == [f"<notification-{resend.pk}@ctit-trial.local>"]


def test_a_row_left_sending_by_a_dead_worker_becomes_uncertain_after_the_timeout(rows, settings):
    settings.NOTIFICATION_SENDING_TIMEOUT_SECONDS = 900
    stuck, recent = rows[COORDINATOR], rows[INVESTIGATOR]
    Notification.objects.filter(pk=stuck.pk).update(status="sending", claimed_at=MORNING - timedelta(seconds=901))
    Notification.objects.filter(pk=recent.pk).update(status="sending", claimed_at=MORNING - timedelta(seconds=899))

    dispatched = services.notifications_dispatch(now=MORNING)

    assert dispatched.uncertain == [stuck.pk]
    assert (reread(stuck).status, reread(recent).status) == ("uncertain", "sending")
    assert reread(stuck).last_error == (
        "The worker stopped while sending: the message may or may not have been delivered. "
        "Check with the recipient, then resend if needed."
    )


def test_with_the_broker_down_the_rows_wait_for_the_dispatch_sweep(rows, caplog):
    with celery_broker(f"redis://127.0.0.1:{free_port()}/0"):  # nothing listens there
        handed = services.delivery.enqueue_sends(list(Notification.objects.values_list("pk", flat=True)), at=MORNING)

    assert handed == 0
    assert set(Notification.objects.values_list("status", "enqueued_at")) == {("pending", None)}
    assert "Broker unavailable" in caplog.text
    assert "2 notification(s) left for the dispatch sweep" in caplog.text
    assert sorted(services.notifications_dispatch(now=MORNING).enqueued) == sorted(row.pk for row in rows.values())


class FakeConnection:
    """A broker connection that is always reachable (the broker itself is tested with a real Redis)."""

    def __enter__(self):
        return FAKE

    def __exit__(self, *exc):
        return False

    def ensure_connection(self, **options):
        return self


FAKE = FakeConnection()


def test_dispatch_hands_rows_to_the_broker_after_commit(rows, monkeypatch, django_capture_on_commit_callbacks):
    sent_tasks = []
    monkeypatch.setattr(services.delivery.celery_app, "send_task", lambda name, **kw: sent_tasks.append((name, kw)))
    monkeypatch.setattr(services.delivery.celery_app, "connection_for_write", lambda: FakeConnection())
    Notification.objects.update(enqueued_at=None)

    with django_capture_on_commit_callbacks(execute=True):
        services.notifications_dispatch(now=MORNING)

    assert sent_tasks == [
        (
            "safety.tasks.notification_send",
            {"connection": FAKE, "args": [row.pk], "kwargs": {"at": MORNING.isoformat()}, "retry": False},
        )
        for row in sorted(rows.values(), key=lambda row: row.pk)
    ]


def _superuser():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser(
        "root-notifications", "root@example.org", "x" * 12
    )


def test_a_resend_needs_a_reason_a_finished_message_and_the_permission(rows, world):
    row = rows[COORDINATOR]

    with pytest.raises(InvalidInput, match=REASON_REQUIRED):
        services.notification_resend(actor=_superuser(), notification=row, reason=" ")
    with pytest.raises(Conflict) as pending:
        services.notification_resend(actor=_superuser(), notification=row, reason="again")
    Notification.objects.filter(pk=row.pk).update(status="sent", sent_at=MORNING)
    with pytest.raises(PermissionDenied) as src_member:
        services.notification_resend(actor=world.users["src"], notification=row, reason="again")

    assert pending.value.message == "This message is pending: only failed, uncertain or sent messages can be resent."
    assert src_member.value.message == "You may not resend reminder emails."


def test_the_delivery_log_shows_staff_their_sites_rows_and_resends_through_the_service(
    rows, world, client, time_machine
):
    services.notifications_sweep(now=datetime(2030, 6, 1, tzinfo=UTC))  # nothing due there: a no-op
    other = Notification.objects.create(
        recipient=world.users["coordinator-be"],
        recipient_email="coordinator.be@example.org",
        kind="visit_target_day",
        site=world.berlin,
        object_ref="visit:999",
        occasion="visit:999:x",
        due_at=MORNING,
        created_at=MORNING,
    )
    client.force_login(world.users["coordinator-bj"])
    shown = client.get(reverse("admin:safety_notification_changelist"))
    Notification.objects.filter(pk=rows[COORDINATOR].pk).update(status="failed", last_error="550 refused")
    client.force_login(_superuser())
    response = client.post(
        reverse("admin:safety_notification_changelist"),
        {"action": "resend", "_selected_action": [rows[COORDINATOR].pk], "reason": "Address corrected"},
        follow=True,
    )

    assert shown.status_code == 200
    assert shown.context["cl"].result_count == 2
    assert other.pk not in [row.pk for row in shown.context["cl"].result_list]
    assert "2030-03-10 08:00 (Asia/Shanghai, UTC+08:00)" in shown.content.decode()
    resend = Notification.objects.get(resend_of=rows[COORDINATOR])
    assert (resend.status, resend.requested_by.is_superuser, resend.request_reason) == (
        "pending",
        True,
        "Address corrected",
    )
    assert f"queued again as message {resend.pk}" in response.content.decode()
