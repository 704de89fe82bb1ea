"""Reads behind the reminder sweep: what is due at an instant, and who receives it (a fixed number of queries).

Every read is set-based: the number of queries does not grow with the number of subjects, visits or recipients.
The sweep reads only the dates that can be due near `now` (a site-local day is at most a day off the UTC day).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Subquery

from dosing import selectors as dosing_selectors
from dosing.models import InfusionPlan, Reconfirmation
from enrollment.models import Protocol, SiteMembership, Subject
from enrollment.roles import INVESTIGATOR, ROLES, SPONSOR_SAFETY, SRC_MEMBER, STUDY_COORDINATOR
from enrollment.selectors import protocol_current
from safety.models import AdverseEvent, Visit
from safety.rules import reminders as rules
from safety.rules.reminders import Occasion, ReminderConfig
from safety.selectors.adverse_events import dlt_assessment_of
from safety.selectors.dlt import AdjudicationState, adjudication_state, current_adjudication

logger = logging.getLogger("safety.notifications")
OFF_STUDY = (Subject.Status.SCREEN_FAILED, Subject.Status.WITHDRAWN, Subject.Status.COMPLETED)
SITE_TEAM_GROUPS = (ROLES[STUDY_COORDINATOR].group_name, ROLES[INVESTIGATOR].group_name)


def reminder_config(protocol: Protocol | None = None) -> ReminderConfig:
    """The reminder times and clocks of the protocol record (one query when no protocol is given)."""
    return ReminderConfig.from_settings((protocol or protocol_current()).config)


@dataclass(frozen=True)
class DueReminder:
    """An occasion due now, with the subject and site it concerns and who is to be told."""

    occasion: Occasion
    subject_id: int | None
    site_id: int | None
    audience: str  # "site_team", "sae", "dlt_candidate" (the SRC and the site's investigators) or "src"
    visit_id: int | None = None


def reconfirmed_expression() -> Exists:
    """Whether a plan has a reconfirmation recorded for its current D−1."""
    return Exists(Reconfirmation.objects.filter(plan=OuterRef("pk"), d_minus_1=OuterRef("d_minus_1")))


def live_plans():
    """Scheduled infusion plans of subjects on study, with whether their current D−1 was reconfirmed."""
    plans = InfusionPlan.objects.filter(status=InfusionPlan.Status.SCHEDULED).exclude(subject__status__in=OFF_STUDY)
    return plans.annotate(reconfirmed=reconfirmed_expression())


def planned_visits():
    """Visits not yet recorded (nor marked missed) of subjects on study."""
    return Visit.objects.filter(status=Visit.Status.PLANNED).exclude(subject__status__in=OFF_STUDY)


def open_saes():
    """Serious AEs with an awareness time and no report to the sponsor yet (any subject status)."""
    return AdverseEvent.objects.filter(serious=True, awareness_at__isnull=False, sae_report__isnull=True)


def _zones(cache: dict[str, ZoneInfo], name: str) -> ZoneInfo:
    if name not in cache:
        cache[name] = ZoneInfo(name)
    return cache[name]


def plan_reminders(*, now: datetime, config: ReminderConfig) -> list[DueReminder]:
    """D−1 reminders due now (one query): plans whose D−1 lies within two days of today (UTC)."""
    today, zones, due = now.date(), {}, []
    rows = live_plans().filter(d_minus_1__range=(today - timedelta(days=2), today + timedelta(days=2)))
    fields = ("pk", "subject_id", "subject__site_id", "subject__site__time_zone", "d_minus_1", "planned_at")
    for pk, subject_id, site_id, zone, d_minus_1, planned_at, reconfirmed in rows.values_list(*fields, "reconfirmed"):
        facts = rules.PlanFacts(pk, _zones(zones, zone), d_minus_1, planned_at, reconfirmed)
        for occasion in rules.due_occasions(rules.plan_occasions(facts, config), now=now):
            due.append(DueReminder(occasion, subject_id, site_id, "site_team"))
    return due


def visit_reminders(*, now: datetime, config: ReminderConfig) -> list[DueReminder]:
    """Visit reminders due now (one query): windows open by tomorrow that closed at most the alert horizon ago."""
    today, zones, due = now.date(), {}, []
    oldest = today - timedelta(days=config.visit_overdue_alert_days + 2)
    rows = planned_visits().filter(window_earliest__lte=today + timedelta(days=1), window_latest__gte=oldest)
    fields = ("pk", "subject_id", "subject__site_id", "subject__site__time_zone")
    for pk, subject_id, site_id, zone, earliest, target, latest in rows.values_list(
        *fields, "window_earliest", "target_date", "window_latest"
    ):
        facts = rules.VisitFacts(pk, _zones(zones, zone), earliest, target, latest)
        for occasion in rules.due_occasions(rules.visit_occasions(facts, config), now=now):
            due.append(DueReminder(occasion, subject_id, site_id, "site_team", visit_id=pk))
    return due


def sae_reminders(*, now: datetime, config: ReminderConfig) -> list[DueReminder]:
    """SAE clock alerts due now (one query)."""
    due = []
    for pk, subject_id, site_id, aware in open_saes().values_list(
        "pk", "subject_id", "subject__site_id", "awareness_at"
    ):
        occasions = rules.sae_occasions(rules.SaeFacts(pk, aware), config)
        due += [
            DueReminder(occasion, subject_id, site_id, "sae") for occasion in rules.due_occasions(occasions, now=now)
        ]
    return due


def candidate_facts(ae: AdverseEvent) -> rules.CandidateFacts | None:
    """The AE as a DLT candidate awaiting adjudication, or None when it is not one."""
    state = adjudication_state(ae)
    if state not in (AdjudicationState.PENDING, AdjudicationState.INVALIDATED):
        return None
    assessment = dlt_assessment_of(ae)
    invalidated = state == AdjudicationState.INVALIDATED
    since = current_adjudication(assessment).signed_at if invalidated else assessment.flagged_at
    return rules.CandidateFacts(ae.pk, invalidated, since)


def flagged_candidates():
    """AEs flagged as DLT candidates, with what their adjudication state needs."""
    events = AdverseEvent.objects.filter(dlt_assessment__is_candidate=True)
    related = events.select_related("subject__site", "subject__infusion", "ctcae_term", "dlt_assessment")
    return related.prefetch_related("dlt_assessment__adjudications")


def candidate_reminders(*, now: datetime) -> list[DueReminder]:
    """DLT candidates to adjudicate (one query; the adjudication state is computed from the rows)."""
    due = []
    for ae in flagged_candidates().order_by("pk"):
        facts = candidate_facts(ae)
        if facts is not None:
            occasions = rules.due_occasions(rules.candidate_occasions(facts), now=now)
            due += [DueReminder(occasion, ae.subject_id, ae.subject.site_id, "dlt_candidate") for occasion in occasions]
    return due


def escalation_facts(protocol: Protocol, *, now: datetime) -> rules.EscalationFacts:
    """The engine's recommendation for the live dose path, and the open level (dosing's reads)."""
    live = dosing_selectors.recommendation(protocol, now=now)
    level = dosing_selectors.open_level(protocol)
    return rules.EscalationFacts(
        live.decision.action, live.decision.dose_level, level.level if level else None, live.path, now
    )


def escalation_reminders(protocol: Protocol, *, now: datetime) -> list[DueReminder]:
    """The SRC decision reminder, when the engine recommends what needs a signed SRC decision."""
    try:
        facts = escalation_facts(protocol, now=now)
    except Exception:  # the escalation engine's failure must not hold back SAE and visit reminders
        logger.exception("Escalation state unreadable: no SRC reminder in this sweep")
        return []
    occasions = rules.due_occasions(rules.escalation_occasions(facts), now=now)
    return [DueReminder(occasion, None, None, "src") for occasion in occasions]


def reminders_due(*, now: datetime) -> list[DueReminder]:
    """Every occasion due and not stale at `now`, of every kind."""
    protocol = protocol_current()
    config = reminder_config(protocol)
    return [
        *plan_reminders(now=now, config=config),
        *visit_reminders(now=now, config=config),
        *sae_reminders(now=now, config=config),
        *candidate_reminders(now=now),
        *escalation_reminders(protocol, now=now),
    ]


@dataclass(frozen=True)
class Recipient:
    """A staff user to email, and the site whose local time their messages use."""

    user_id: int
    email: str
    site_id: int | None


@dataclass(frozen=True)
class Directory:
    """Who receives what: the team of each site, its investigators, sponsor safety and the SRC."""

    team: dict[int, list[Recipient]]
    investigators: dict[int, list[Recipient]]
    sponsor: list[Recipient]
    src: list[Recipient]

    def recipients(self, reminder: DueReminder) -> list[Recipient]:
        """Recipients of one reminder; subject messages use the subject's site time."""
        if reminder.audience == "site_team":
            return self.team.get(reminder.site_id, [])
        if reminder.audience == "sae":
            sponsor = [Recipient(person.user_id, person.email, reminder.site_id) for person in self.sponsor]
            return _unique([*self.investigators.get(reminder.site_id, []), *sponsor])
        if reminder.audience == "dlt_candidate":  # the SRC adjudicates; the site's investigators follow the subject
            src = [Recipient(person.user_id, person.email, reminder.site_id) for person in self.src]
            return _unique([*src, *self.investigators.get(reminder.site_id, [])])
        if reminder.site_id is None:
            return self.src
        return [Recipient(person.user_id, person.email, reminder.site_id) for person in self.src]


def _unique(recipients: list[Recipient]) -> list[Recipient]:
    first: dict[int, Recipient] = {}
    for recipient in recipients:
        first.setdefault(recipient.user_id, recipient)
    return list(first.values())


def reachable_users():
    """Active users with an email address."""
    return get_user_model().objects.filter(is_active=True).exclude(email="")


def recipient_directory() -> Directory:
    """Every recipient by role and site (three queries)."""
    team, investigators = defaultdict(list), defaultdict(list)
    memberships = SiteMembership.objects.filter(
        is_active=True, user__in=reachable_users(), user__groups__name__in=SITE_TEAM_GROUPS
    )
    rows = memberships.values_list("site_id", "user_id", "user__email", "user__groups__name").distinct()
    for site_id, user_id, email, group in rows.order_by("site_id", "user_id"):
        recipient = Recipient(user_id, email, site_id)
        if recipient not in team[site_id]:
            team[site_id].append(recipient)
        if group == ROLES[INVESTIGATOR].group_name:
            investigators[site_id].append(recipient)
    return Directory(dict(team), dict(investigators), _group_members(SPONSOR_SAFETY), _group_members(SRC_MEMBER))


def _group_members(role_key: str) -> list[Recipient]:
    """Reachable users of one role, each with their first site (by code) for local times."""
    first_site = SiteMembership.objects.filter(user=OuterRef("pk"), is_active=True).order_by("site__code")
    users = reachable_users().filter(groups__name=ROLES[role_key].group_name).distinct()
    rows = users.annotate(site_id=Subquery(first_site.values("site_id")[:1])).order_by("pk")
    return [Recipient(pk, email, site_id) for pk, email, site_id in rows.values_list("pk", "email", "site_id")]
