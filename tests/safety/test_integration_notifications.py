"""Reminders end to end: a real Celery worker on a real Redis broker sends to a real SMTP server on loopback.

The sweeps run in this process at travelled times (time-machine); the worker only sends, judging each message at
the instant its task carries. Redis and the worker are private to each test, so stopping or killing them never
touches the machine's shared services.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from threading import Barrier, Event

import pytest
from django.db import connection

from safety import services
from safety.models import Notification
from tests.factories import make_adverse_event, make_infusion, make_visit_schedule, set_open_level
from tests.safety.reminder_world import build_world, enrolled_subject, make_plan
from tests.services import (
    RecordingHandler,
    RedisServer,
    celery_broker,
    celery_worker,
    database_url,
    restartable_redis,
    smtp_server,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
NAUSEA = {"term": None, "other_term": "Nausea", "other_meddra_code": "10028813"}
BJ_TEAM = ("coordinator.bj@example.org", "investigator.bj@example.org")
BE_TEAM = ("coordinator.be@example.org", "investigator.be@example.org")
SAE_AUDIENCE = ("investigator.bj@example.org", "sponsor@example.org")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@dataclass
class Stack:
    broker: RedisServer
    smtp: RecordingHandler
    email_url: str
    log: Path


@pytest.fixture
def stack(django_db_setup, tmp_path):
    """A private Redis, a recording SMTP server, and this process's Celery app pointed at that Redis."""
    with restartable_redis() as broker, smtp_server() as (handler, email_url), celery_broker(broker.url):
        yield Stack(broker, handler, email_url, tmp_path / "worker.log")


def start_worker(stack: Stack):
    """A worker process on the test database (solo pool: one task at a time, in queue order)."""
    db = database_url(connection.settings_dict)
    return celery_worker(broker_url=stack.broker.url, database_url=db, email_url=stack.email_url, log_path=stack.log)


@pytest.fixture
def worker(stack):
    with start_worker(stack) as running:
        yield running


def settled() -> bool:
    """No notification waits to be sent or is being sent."""
    return not Notification.objects.filter(status__in=["pending", "sending"]).exists()


def sweep_and_deliver(stack: Stack, at, instant: datetime) -> list[tuple[str, str]]:
    """Sweep at an instant (in this process) and wait until the worker has dealt with every row written."""
    at(instant)
    ids = services.notifications_sweep(now=instant)
    wait_until(settled, what=f"the worker to send what the sweep at {instant} wrote\n{stack.log.read_text()[-2000:]}")
    return list(Notification.objects.filter(pk__in=ids).order_by("pk").values_list("kind", "recipient_email"))


@pytest.fixture
def at(time_machine):
    def move(instant: datetime) -> datetime:
        time_machine.move_to(instant, tick=False)
        return instant

    return move


def record(visit, user, on: date) -> None:
    services.visit_record(actor=user, visit=visit, visit_date=on, platelets=Decimal("70"), ae_review_done=True)


def test_each_reminder_kind_is_delivered_once_at_its_local_time(stack, worker, at):
    # given: a D−1 in Shanghai, a dosed subject in Berlin, an SAE in Shanghai (set up at the times they happen)
    at(utc(2030, 3, 1))
    world = build_world()
    set_open_level(1)
    make_plan(enrolled_subject(world.shanghai), utc(2030, 3, 11, 1, 0))  # D−1 = 10 March in Shanghai
    moments = {
        "d_minus_1_draw_tomorrow": utc(2030, 3, 9, 0, 0),  # 08:00 on D−2 in Shanghai
        "d_minus_1_morning": utc(2030, 3, 10, 0, 0),  # 08:00 on D−1
        "reconfirmation_missing": utc(2030, 3, 10, 8, 0),  # 16:00 cut-off
    }
    written = {kind: _before_and_at(stack, at, instant) for kind, instant in moments.items()}

    berlin, shanghai_sae = _dosed_in_berlin(world, at), _sae_in_shanghai(world, at)
    moments = {"sae_reminder/12h": utc(2030, 6, 2, 10, 30), "sae_reminder/20h": utc(2030, 6, 2, 18, 30)}
    moments["sae_overdue"] = utc(2030, 6, 2, 22, 30)
    written |= {kind: _before_and_at(stack, at, instant) for kind, instant in moments.items()}

    at(utc(2030, 6, 3, 2, 0))
    candidate = make_adverse_event(
        subject=berlin["subject"], onset_date=date(2030, 6, 2), actor=world.users["investigator-be"], grade=3, **NAUSEA
    )
    written["dlt_candidate"] = _before_and_at(stack, at, utc(2030, 6, 3, 2, 0))  # due from its flagging
    services.ae_update(actor=world.users["investigator-be"], ae=candidate, reason="Re-assessed", relatedness="unlikely")
    at(utc(2030, 6, 3, 5, 0))
    record(berlin["D2"], world.users["coordinator-be"], date(2030, 6, 3))
    at(utc(2030, 6, 4, 5, 0))
    record(berlin["D3"], world.users["coordinator-be"], date(2030, 6, 4))
    moments = {
        "visit_window_open": utc(2030, 6, 7, 6, 0),  # 08:00 CEST on 7 June, D7 window 7–9 June
        "visit_target_day": utc(2030, 6, 8, 6, 0),
        "visit_overdue": utc(2030, 6, 10, 6, 0),  # 08:00 on the day after the window closed
    }
    written |= {kind: _before_and_at(stack, at, instant) for kind, instant in moments.items()}
    at(utc(2030, 6, 29, 21, 0))
    record(berlin["D28"], world.users["coordinator-be"], date(2030, 6, 29))
    # the DLT window (D0 = 1 June) includes 29 June; it is complete at midnight in Berlin (22:00 UTC)
    written["src_decision_due"] = _before_and_at(stack, at, utc(2030, 6, 29, 22, 0))

    # then: one sweep a minute early wrote nothing; the sweep on time wrote one row per recipient; each was sent once
    src = ("src@example.org",)
    assert written == {
        "d_minus_1_draw_tomorrow": ([], _rows("d_minus_1_draw_tomorrow", BJ_TEAM)),
        "d_minus_1_morning": ([], _rows("d_minus_1_morning", BJ_TEAM)),
        "reconfirmation_missing": ([], _rows("reconfirmation_missing", BJ_TEAM)),
        "sae_reminder/12h": ([], _rows("sae_reminder", SAE_AUDIENCE)),
        "sae_reminder/20h": ([], _rows("sae_reminder", SAE_AUDIENCE)),
        "sae_overdue": ([], _rows("sae_overdue", SAE_AUDIENCE)),
        "dlt_candidate": ([], _rows("dlt_candidate", (*src, "investigator.be@example.org"))),  # the SRC and the site
        "visit_window_open": ([], _rows("visit_window_open", BE_TEAM)),
        "visit_target_day": ([], _rows("visit_target_day", BE_TEAM)),
        "visit_overdue": ([], _rows("visit_overdue", BE_TEAM)),
        "src_decision_due": ([], _rows("src_decision_due", src)),
    }
    sent = Notification.objects.order_by("pk")
    assert list(sent.values_list("status", flat=True)) == ["sent"] * 21
    assert sorted(stack.smtp.message_ids()) == sorted(sent.values_list("message_id", flat=True))
    assert len(set(stack.smtp.message_ids())) == 21
    subjects = {item["message_id"]: item["subject"] for item in stack.smtp.accepted}
    by_kind = {row.kind: subjects[row.message_id] for row in sent.filter(recipient_email=BE_TEAM[0])}
    assert by_kind == {
        "visit_window_open": "[XJ-MK-002] S-BE01-001: D7 visit window opens 2030-06-07 (until 2030-06-09)",
        "visit_target_day": "[XJ-MK-002] S-BE01-001: D7 visit target day 2030-06-08 (window until 2030-06-09)",
        "visit_overdue": "[XJ-MK-002] S-BE01-001: D7 visit overdue (window closed 2030-06-09)",
    }
    texts = {item["message_id"]: item["text"] for item in stack.smtp.accepted}
    assert [text for text in texts.values() if "{{" in text or "}}" in text or "{%" in text] == []
    target_day = texts[sent.get(kind="visit_target_day", recipient_email=BE_TEAM[0]).message_id]
    assert "(window 2030-06-07 to 2030-06-09)" in " ".join(target_day.split())
    sae_subjects = {subjects[row.message_id] for row in sent.filter(kind="sae_overdue")}
    assert sae_subjects == {
        f"[XJ-MK-002] {shanghai_sae.subject.study_number}: SAE report to the sponsor OVERDUE since "
        "2030-06-03 06:30 (Asia/Shanghai, UTC+08:00)"
    }


def _rows(kind: str, recipients) -> list[tuple[str, str]]:
    return [(kind, recipient) for recipient in recipients]


def _before_and_at(stack, at, instant: datetime):
    return sweep_and_deliver(stack, at, instant - timedelta(minutes=1)), sweep_and_deliver(stack, at, instant)


def _dosed_in_berlin(world, at) -> dict:
    """A subject dosed at 09:00 on 1 June in Berlin; the D0 visit recorded that day."""
    at(utc(2030, 6, 1, 7, 30))
    infusion = make_infusion(subject=enrolled_subject(world.berlin), level=1, started_at=utc(2030, 6, 1, 7, 0))
    visits = {visit.definition.code: visit for visit in make_visit_schedule(infusion=infusion)}
    record(visits["D0"], world.users["coordinator-be"], date(2030, 6, 1))
    return {"subject": infusion.subject, **visits}


def _sae_in_shanghai(world, at):
    at(utc(2030, 6, 2, 0, 0))
    return make_adverse_event(
        subject=enrolled_subject(world.shanghai),
        onset_date=date(2030, 6, 1),
        actor=world.users["investigator-bj"],
        serious=True,
        sae_hospitalization=True,
        awareness_at=utc(2030, 6, 1, 22, 30),
        grade=3,
        **NAUSEA,
    )


def test_two_sweeps_at_once_write_and_send_each_message_once(stack, worker, at):
    # given: ten subjects whose D−1 reminders fall due at the same instant (20 messages)
    at(utc(2030, 3, 1))
    world = build_world()
    for _ in range(10):
        make_plan(enrolled_subject(world.shanghai), utc(2030, 3, 11, 1, 0))
    now = at(utc(2030, 3, 9, 0, 0))

    # when: two sweeps run at the same moment, each on its own database connection
    first, second = race(lambda: services.notifications_sweep(now=now), times=2)
    wait_until(settled, what="the worker to send the swept rows")
    services.delivery.enqueue_sends(first + second, at=now)  # every send task delivered a second time
    again = sweep_and_deliver(stack, at, utc(2030, 3, 10, 0, 0))  # a later batch, queued behind the duplicates

    # then: 20 rows, each written by one sweep; 20 + 20 messages, none twice
    assert (len(first) + len(second), set(first) & set(second)) == (20, set())
    assert sorted(first + second) == sorted(
        Notification.objects.filter(kind="d_minus_1_draw_tomorrow").values_list("pk", flat=True)
    )
    assert len(again) == 20
    assert len(stack.smtp.message_ids()) == len(set(stack.smtp.message_ids())) == 40
    assert set(Notification.objects.values_list("status", "attempts")) == {("sent", 1)}


def race(action, *, times: int) -> list:
    """Run an action in several threads released together; each thread uses (then closes) its own connection."""
    barrier = Barrier(times)

    def attempt(_):
        barrier.wait()
        try:
            return action()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(attempt, range(times)))


def test_a_worker_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(stack, at):
    # given: three subjects' "draw tomorrow" reminders (6 messages); the server holds the first one to the
    # investigator without answering, as a slow server would
    at(utc(2030, 3, 1))
    world = build_world()
    for _ in range(3):
        make_plan(enrolled_subject(world.shanghai), utc(2030, 3, 11, 1, 0))
    stack.smtp.hold[BJ_TEAM[1]] = Event()
    now = at(utc(2030, 3, 9, 0, 0))

    # when: the worker is killed (SIGKILL) while that message is in transfer, and a new worker is started
    with start_worker(stack) as first_worker:
        ids = services.notifications_sweep(now=now)
        assert stack.smtp.holding.wait(30), stack.log.read_text()[-3000:]
        first_worker.kill()
    stack.smtp.hold[BJ_TEAM[1]].set()  # the server gives up on the dead connection: nothing was accepted
    with start_worker(stack):
        # the server accepting a message comes before the worker marks its row sent: wait for both
        wait_until(
            lambda: len(stack.smtp.accepted) == 5 and Notification.objects.filter(status="sent").count() == 5,
            what="the new worker to send the other five",
        )
        dispatched = services.notifications_dispatch(now=now + timedelta(seconds=901))  # past the sending timeout
        killed = Notification.objects.get(status="uncertain")
        services.delivery.enqueue_sends([killed.pk], at=now)  # the broker redelivering the killed task
        resend = services.notification_resend(actor=_admin(), notification=killed, reason="Not received: checked")
        wait_until(lambda: len(stack.smtp.accepted) == 6, what="the resend")

    # then: five sent once; the one cut off is uncertain (never re-sent by itself); the person's resend went once
    rows = Notification.objects.filter(pk__in=ids)
    assert sorted(rows.values_list("status", flat=True)) == ["sent"] * 5 + ["uncertain"]
    assert (dispatched.uncertain, dispatched.enqueued) == ([killed.pk], [])
    assert (killed.attempts, killed.recipient_email) == (1, BJ_TEAM[1])
    accepted = stack.smtp.message_ids()
    assert len(accepted) == len(set(accepted)) == 6
    assert killed.message_id not in accepted
    assert set(accepted) == set(rows.filter(status="sent").values_list("message_id", flat=True)) | {
        Notification.objects.get(pk=resend.pk).message_id
    }


def _admin():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("admin-resend", "admin@example.org", "x" * 12)


def test_with_redis_stopped_clinical_writes_succeed_and_the_backlog_goes_once_redis_is_back(stack, worker, at):
    # given: the worker is running; then Redis stops
    at(utc(2030, 6, 2, 0, 0))
    world = build_world()
    stack.broker.stop()

    # when: an SAE is recorded and the sweep finds its 12-hour alert due while Redis is down
    sae = _sae_in_shanghai(world, at)
    swept = services.notifications_sweep(now=at(utc(2030, 6, 2, 10, 30)))
    waiting = list(Notification.objects.order_by("pk").values_list("status", "enqueued_at"))
    stack.broker.start()  # same port, empty: whatever the broker held is gone
    dispatched = services.notifications_dispatch(now=utc(2030, 6, 2, 10, 31))
    wait_until(lambda: len(stack.smtp.accepted) == 2, timeout=60, what=f"the backlog\n{stack.log.read_text()[-3000:]}")
    wait_until(settled, what="the rows to be marked sent")

    # then
    assert sae.pk is not None and sae.serious
    assert waiting == [("pending", None), ("pending", None)]
    assert sorted(dispatched.enqueued) == sorted(swept)
    assert sorted(stack.smtp.message_ids()) == sorted(Notification.objects.values_list("message_id", flat=True))
    assert list(Notification.objects.values_list("status", "recipient_email").order_by("recipient_email")) == [
        ("sent", address) for address in SAE_AUDIENCE
    ]
