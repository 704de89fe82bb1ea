"""Reads of the delivery log: whether a notification is still relevant, which rows are due, who sees the log."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Q, QuerySet

from dosing.models import InfusionPlan
from enrollment.models import Protocol, Subject
from enrollment.selectors import protocol_current, sites_visible_to, user_sees_all_sites
from safety.models import AdverseEvent, Notification, Visit
from safety.rules import reminders as rules
from safety.rules.reminders import Occasion, ReminderConfig, ReminderKind
from safety.selectors.adverse_events import sae_report_of
from safety.selectors.dlt import adjudication_state
from safety.selectors.reminders import (
    OFF_STUDY,
    candidate_facts,
    escalation_facts,
    flagged_candidates,
    reconfirmed_expression,
    reminder_config,
)

Status = Notification.Status


@dataclass(frozen=True)
class ObjectState:
    """The current occasions of the object a notification is about, and why its occasion may be gone."""

    occasions: tuple[Occasion, ...]
    note: str


def _off_study(subject: Subject) -> str:
    return f"{subject.study_number} is {subject.get_status_display().lower()}" if subject.status in OFF_STUDY else ""


def _plan_state(pk: int, config: ReminderConfig) -> ObjectState:
    plans = InfusionPlan.objects.select_related("subject__site").annotate(reconfirmed=reconfirmed_expression())
    plan = plans.filter(pk=pk).first()
    if plan is None:
        return ObjectState((), "the infusion plan no longer exists")
    if plan.status != InfusionPlan.Status.SCHEDULED:
        return ObjectState((), _off_study(plan.subject) or f"the infusion plan is {plan.status}")
    if _off_study(plan.subject):
        return ObjectState((), _off_study(plan.subject))
    if plan.reconfirmed:
        return ObjectState((), f"the D−1 count of {plan.d_minus_1} is recorded")
    zone = plan.subject.site.zone
    facts = rules.PlanFacts(plan.pk, zone, plan.d_minus_1, plan.planned_at, False)
    return ObjectState(rules.plan_occasions(facts, config), f"D−1 moved to {plan.d_minus_1}")


def _visit_state(pk: int, config: ReminderConfig) -> ObjectState:
    visit = Visit.objects.select_related("subject__site", "definition").filter(pk=pk).first()
    if visit is None:
        return ObjectState((), "the visit no longer exists")
    code = visit.definition.code
    if visit.status != Visit.Status.PLANNED:
        on = f" on {visit.visit_date}" if visit.visit_date else ""
        return ObjectState((), f"the {code} visit is {visit.get_status_display().lower()}{on}")
    if _off_study(visit.subject):
        return ObjectState((), _off_study(visit.subject))
    zone = visit.subject.site.zone
    facts = rules.VisitFacts(visit.pk, zone, visit.window_earliest, visit.target_date, visit.window_latest)
    moved = f"the {code} visit moved: window {visit.window_earliest}…{visit.window_latest}"
    return ObjectState(rules.visit_occasions(facts, config), moved)


def _sae_state(pk: int, config: ReminderConfig) -> ObjectState:
    ae = AdverseEvent.objects.select_related("sae_report").filter(pk=pk).first()
    if ae is None:
        return ObjectState((), "the adverse event no longer exists")
    report = sae_report_of(ae)
    if report is not None:
        return ObjectState((), f"the SAE was reported to the sponsor at {report.reported_at:%Y-%m-%d %H:%M} UTC")
    if not ae.serious or ae.awareness_at is None:
        return ObjectState((), "the adverse event is no longer recorded as serious")
    moved = f"the awareness time was corrected to {ae.awareness_at:%Y-%m-%d %H:%M} UTC"
    return ObjectState(rules.sae_occasions(rules.SaeFacts(ae.pk, ae.awareness_at), config), moved)


def _candidate_state(pk: int) -> ObjectState:
    ae = flagged_candidates().filter(pk=pk).first()
    if ae is None:
        return ObjectState((), "the adverse event is no longer a DLT candidate")
    facts = candidate_facts(ae)
    if facts is None:
        return ObjectState((), f"the DLT candidate is adjudicated ({adjudication_state(ae).value})")
    return ObjectState(rules.candidate_occasions(facts), "the DLT candidate was flagged again")


def _escalation_state(protocol: Protocol, now: datetime) -> ObjectState:
    facts = escalation_facts(protocol, now=now)
    level = "" if facts.dose_level is None else f" at level {facts.dose_level}"
    note = f"the engine now recommends {facts.action}{level} for the path '{facts.path}'"
    return ObjectState(rules.escalation_occasions(facts), note)


def object_state(kind: str, object_ref: str, *, now: datetime) -> ObjectState:
    """The current occasions of the notification's object (of its kind's family), read now."""
    protocol = protocol_current()
    config = reminder_config(protocol)
    _, pk = rules.parse_ref(object_ref)
    if kind in rules.PLAN_KINDS:
        return _plan_state(pk, config)
    if kind in rules.VISIT_KINDS:
        return _visit_state(pk, config)
    if kind in rules.SAE_KINDS:
        return _sae_state(pk, config)
    if kind == ReminderKind.DLT_CANDIDATE:
        return _candidate_state(pk)
    return _escalation_state(protocol, now)


def stale_reason(notification: Notification, *, now: datetime) -> str:
    """Why the notification must not be sent at `now`, or "" while it is still relevant."""
    recipient = notification.recipient
    if not recipient.is_active or not recipient.email:
        return f"{recipient.get_username()} is inactive or has no email address"
    state = object_state(notification.kind, notification.object_ref, now=now)
    key = notification.resend_of.occasion if notification.resend_of_id else notification.occasion
    match = next((o for o in state.occasions if o.kind == notification.kind and o.key == key), None)
    if match is None:
        return state.note
    if match.is_stale(now):
        return f"no longer timely: a later reminder took over at {match.stale_at:%Y-%m-%d %H:%M} UTC"
    return ""


def notification_keys(occasions: set[str]) -> set[tuple[int, str, str]]:
    """The (recipient, kind, occasion) keys already written for these occasions (one query on PostgreSQL)."""
    listed, chunk = sorted(occasions), connection.features.max_query_params or max(len(occasions), 1)
    keys: set[tuple[int, str, str]] = set()
    for start in range(0, len(listed), chunk):
        rows = Notification.objects.filter(occasion__in=listed[start : start + chunk])
        keys |= set(rows.values_list("recipient_id", "kind", "occasion"))
    return keys


def notification_for_delivery(pk: int) -> Notification | None:
    """The notification with what sending it needs."""
    related = ("recipient", "subject__site", "site", "resend_of")
    return Notification.objects.select_related(*related).filter(pk=pk).first()


def notifications_to_dispatch(*, now: datetime, enqueued_before: datetime, limit: int) -> QuerySet[Notification]:
    """Pending rows whose retry time has come and that were not handed to the broker recently (oldest first)."""
    ready = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    fresh = Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=enqueued_before)
    return Notification.objects.filter(ready, fresh, status=Status.PENDING).order_by("due_at", "pk")[:limit]


def notifications_visible_to(user: AbstractBaseUser) -> QuerySet[Notification]:
    """The delivery log a user may see: every row for cross-site roles, else their sites' rows and their own."""
    rows = Notification.objects.select_related("recipient", "subject__site", "site", "visit__definition")
    if user_sees_all_sites(user):
        return rows
    return rows.filter(Q(subject__site__in=sites_visible_to(user)) | Q(recipient=user))
