"""Every kind of reminder email, sent as in the trial: sweeps at the instants each falls due, each row delivered
at once through the real sender. A D−1 in Shanghai, an SAE in Shanghai, a dosed subject in Berlin with its
visits and a DLT candidate, then level 1's DLT window complete (an SRC decision due)."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from django.core import mail
from django.core.mail import EmailMultiAlternatives

from safety import services
from safety.models import Notification
from tests.factories import make_adverse_event, make_infusion, make_visit_schedule, set_open_level
from tests.safety.reminder_world import World, enrolled_subject, make_plan

NAUSEA = {"term": None, "other_term": "Nausea", "other_meddra_code": "10028813"}
Sent = Callable[[Notification, EmailMultiAlternatives], None]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def sweep_and_send(instant: datetime, on_sent: Sent) -> None:
    """The beat's sweep at an instant, then each new row delivered; `on_sent` sees each row with its email."""
    for pk in services.notifications_sweep(now=instant):
        before = len(mail.outbox)
        status = services.notification_deliver(notification_id=pk, now=instant)
        assert (status, len(mail.outbox)) == ("sent", before + 1)
        on_sent(Notification.objects.select_related("recipient").get(pk=pk), mail.outbox[-1])


def record_visit(visit, user, on: date) -> None:
    services.visit_record(actor=user, visit=visit, visit_date=on, platelets=Decimal("70"), ae_review_done=True)


def every_kind_sent(world: World, at, on_sent: Sent) -> None:
    """Walk the trial through one of each reminder kind (21 messages), calling `on_sent` as each goes out."""
    set_open_level(1)
    make_plan(enrolled_subject(world.shanghai), utc(2030, 3, 11, 1, 0))  # 09:00 on 11 March in Shanghai
    for instant in (utc(2030, 3, 9, 0, 0), utc(2030, 3, 10, 0, 0), utc(2030, 3, 10, 8, 0)):  # D−2, D−1, cut-off
        sweep_and_send(at(instant), on_sent)
    berlin = _dosed_in_berlin(world, at)
    _sae_in_shanghai(world, at)
    for instant in (utc(2030, 6, 2, 10, 30), utc(2030, 6, 2, 18, 30), utc(2030, 6, 2, 22, 30)):  # 12 h, 20 h, 24 h
        sweep_and_send(at(instant), on_sent)
    at(utc(2030, 6, 3, 2, 0))
    candidate = make_adverse_event(
        subject=berlin["subject"], onset_date=date(2030, 6, 2), actor=world.users["investigator-be"], grade=3, **NAUSEA
    )
    sweep_and_send(utc(2030, 6, 3, 2, 0), on_sent)
    services.ae_update(actor=world.users["investigator-be"], ae=candidate, reason="Re-assessed", relatedness="unlikely")
    at(utc(2030, 6, 3, 5, 0))
    record_visit(berlin["D2"], world.users["coordinator-be"], date(2030, 6, 3))
    at(utc(2030, 6, 4, 5, 0))
    record_visit(berlin["D3"], world.users["coordinator-be"], date(2030, 6, 4))
    for instant in (utc(2030, 6, 7, 6, 0), utc(2030, 6, 8, 6, 0), utc(2030, 6, 10, 6, 0)):  # D7: opens, target, overdue
        sweep_and_send(at(instant), on_sent)
    at(utc(2030, 6, 29, 21, 0))
    record_visit(berlin["D28"], world.users["coordinator-be"], date(2030, 6, 29))
    sweep_and_send(at(utc(2030, 6, 29, 22, 0)), on_sent)  # the DLT window is complete at midnight in Berlin


def _dosed_in_berlin(world: World, at) -> dict:
    """A subject dosed at 09:00 on 1 June in Berlin; its D0 visit recorded that day."""
    at(utc(2030, 6, 1, 7, 30))
    infusion = make_infusion(subject=enrolled_subject(world.berlin), level=1, started_at=utc(2030, 6, 1, 7, 0))
    visits = {visit.definition.code: visit for visit in make_visit_schedule(infusion=infusion)}
    record_visit(visits["D0"], world.users["coordinator-be"], date(2030, 6, 1))
    return {"subject": infusion.subject, **visits}


def _sae_in_shanghai(world: World, at):
    at(utc(2030, 6, 2, 0, 0))
    return make_adverse_event(
        subject=enrolled_subject(world.shanghai),
        onset_date=date(2030, 6, 1),
        actor=world.users["investigator-bj"],
        serious=True,
        sae_hospitalization=True,
        awareness_at=utc(2030, 6, 1, 22, 30),  # 06:30 on 2 June in Shanghai
        grade=3,
        **NAUSEA,
    )
