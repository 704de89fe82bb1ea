"""Today's work on the admin index: what each user's role has to do today at their sites, each line linking to the
page where the act is done. Times are shown in the zone of the line's site, labelled."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from ctit_trial.site_time import format_local
from dosing import selectors as dosing_selectors
from dosing.models import InfusionPlan, PreInfusionAssessment, Reconfirmation, SrcDecision
from enrollment.models import Protocol, Site, Subject
from enrollment.roles import Act, may
from enrollment.selectors import protocol_current, sites_of_member
from safety import selectors as safety_selectors
from safety.models import AdverseEvent, Notification, Visit
from safety.rules.reminders import src_decision_due
from safety.selectors.reminders import OFF_STUDY, escalation_facts

AWAITING_ADJUDICATION = (safety_selectors.AdjudicationState.PENDING, safety_selectors.AdjudicationState.INVALIDATED)


@dataclass(frozen=True)
class WorkLine:
    """One thing to do today: about which subject (none: trial-wide), what, and the page where it is done."""

    subject: str
    text: str
    url: str


@dataclass(frozen=True)
class WorkSection:
    title: str
    lines: list[WorkLine]


def _add_form(model_name: str, subject: Subject) -> str:
    return f"{reverse(f'admin:dosing_{model_name}_add')}?subject={subject.pk}"


@dataclass(frozen=True)
class DosingFacts:
    """What was recorded for today's dosing-day subjects: (subject id, day) pairs, and blocked plans by subject."""

    reconfirmed: set
    assessed: set
    blocked_plans: dict


def _dosing_facts(subjects: list[Subject]) -> DosingFacts:
    plans = InfusionPlan.objects.filter(subject__in=subjects)
    return DosingFacts(
        reconfirmed=set(Reconfirmation.objects.filter(plan__in=plans).values_list("plan__subject_id", "d_minus_1")),
        assessed=set(PreInfusionAssessment.objects.filter(plan__in=plans).values_list("plan__subject_id", "d0")),
        blocked_plans=dict(plans.filter(status=InfusionPlan.Status.BLOCKED).values_list("subject_id", "pk")),
    )


def _dosing_step(row: dict, facts: DosingFacts, today: date) -> tuple[str, str]:
    """The next dosing-day act for a row of `dosing_today`, and the page where it is done."""
    subject = row["subject"]
    if row["plan_status"] == InfusionPlan.Status.BLOCKED:
        plan_page = reverse("admin:dosing_infusionplan_change", args=[facts.blocked_plans[subject.pk]])
        return "blocked at the dosing gate: reschedule, or record the screen failure", plan_page
    if row["day"] == "D-1":
        if (subject.pk, today) in facts.reconfirmed:
            return "D−1 reconfirmation recorded", reverse("admin:dosing_today")
        return "record the D−1 reconfirmation (platelet count, bleeding)", _add_form("reconfirmation", subject)
    if row["plan_status"] == InfusionPlan.Status.INFUSED:
        if any("draw" in item for item in row["missing"]):
            return "record the post-infusion platelet draws", _add_form("postinfusiondraw", subject)
        return "infused today, draws recorded", reverse("admin:dosing_today")
    if (subject.pk, today) in facts.assessed:
        return "record the infusion", _add_form("infusion", subject)
    return "record the D0 pre-infusion assessment", _add_form("preinfusionassessment", subject)


def dosing_lines(sites: list[Site], *, now: datetime) -> list[WorkLine]:
    """Subjects with D−1 or D0 today at the user's sites, each with the next act and what is still missing."""
    rows = dosing_selectors.dosing_today(sites, now=now)
    facts = _dosing_facts([row["subject"] for row in rows])
    lines = []
    for row in rows:
        subject = row["subject"]
        step, url = _dosing_step(row, facts, subject.site.local_date(now))
        day = "D−1" if row["day"] == "D-1" else "D0"
        planned = format_local(row["planned_at"], subject.site.zone)
        missing = " ".join(dict.fromkeys(row["missing"])) or "nothing."
        text = f"{day} today (level {row['dose_level']}, infusion planned {planned}): {step}. Still missing: {missing}"
        lines.append(WorkLine(subject.study_number, text, url))
    return lines


def _visit_line(visit: Visit, state: str) -> WorkLine:
    window = f"{visit.window_earliest}…{visit.window_latest}"
    text = f"{visit.definition.code} visit {state}: window {window}, target {visit.target_date}"
    return WorkLine(visit.subject.study_number, text, reverse("admin:safety_visit_change", args=[visit.pk]))


def visit_lines(sites: list[Site], *, now: datetime) -> tuple[list[WorkLine], list[WorkLine]]:
    """Planned visits whose window is open today (each site's own day), and those whose window has closed."""
    open_today, closed = Q(pk__in=[]), Q(pk__in=[])
    for site in sites:
        today = site.local_date(now)
        open_today |= Q(subject__site=site, window_earliest__lte=today, window_latest__gte=today)
        closed |= Q(subject__site=site, window_latest__lt=today)
    planned = (
        Visit.objects.filter(status=Visit.Status.PLANNED)
        .exclude(subject__status__in=OFF_STUDY)
        .select_related("subject__site", "definition")
        .order_by("window_latest", "subject__site__code", "subject__sequence", "pk")
    )
    due = [_visit_line(visit, "due") for visit in planned.filter(open_today)]
    return due, [_visit_line(visit, "overdue") for visit in planned.filter(closed)]


def _time_left(deadline: datetime, now: datetime) -> str:
    minutes = int(abs(deadline - now) / timedelta(minutes=1))
    span = f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{span} left" if deadline > now else f"overdue by {span}"


def sae_lines(sites: list[Site], *, now: datetime) -> list[WorkLine]:
    """Serious AEs at the user's sites whose report to the sponsor is not made yet, with the clock's time left."""
    clocks = safety_selectors.safety_config().clocks
    events = (
        AdverseEvent.objects.filter(serious=True, awareness_at__isnull=False, sae_report__isnull=True)
        .filter(subject__site__in=sites)
        .select_related("subject__site", "ctcae_term")
        .order_by("awareness_at", "pk")
    )
    lines = []
    for ae in events:
        deadline = safety_selectors.sae_clock(ae, clocks=clocks, now=now).deadline
        due = format_local(deadline, ae.subject.site.zone)
        text = f"SAE report of {ae.term_name} (grade {ae.grade}) to the sponsor: {_time_left(deadline, now)}, due {due}"
        url = reverse("admin:safety_adverseevent_act", args=[ae.pk, "sae_report"])
        lines.append(WorkLine(ae.subject.study_number, text, url))
    return lines


def dlt_lines(user: AbstractBaseUser) -> list[WorkLine]:
    """DLT candidates the user may see, never adjudicated or whose adjudication a changed fact invalidated."""
    events = safety_selectors.adverse_events_visible_to(user).filter(dlt_assessment__is_candidate=True)
    lines = []
    for ae in events:
        state = safety_selectors.adjudication_state(ae)
        if state in AWAITING_ADJUDICATION:
            again = " again (a fact changed since it was adjudicated)" if state == AWAITING_ADJUDICATION[1] else ""
            rule = ae.dlt_assessment.rule
            text = f"DLT candidate to adjudicate{again}: {ae.term_name}, grade {ae.grade} (rule {rule})"
            url = reverse("admin:safety_adverseevent_act", args=[ae.pk, "adjudicate"])
            lines.append(WorkLine(ae.subject.study_number, text, url))
    return lines


def src_lines(user: AbstractBaseUser, *, now: datetime) -> list[WorkLine]:
    """The SRC decision the engine's recommendation needs, and decisions awaiting this member's signature."""
    awaiting = SrcDecision.objects.filter(status=SrcDecision.Status.AWAITING_SIGNATURES).order_by("recorded_at", "pk")
    lines = []
    if may(user, Act.RECORD_SRC_DECISION) and not awaiting.exists():
        facts = escalation_facts(protocol_current(), now=now)
        if src_decision_due(facts.action, facts.dose_level, facts.open_level):
            level = f" level {facts.dose_level}" if facts.dose_level else ""
            text = f"SRC decision due: the engine recommends {facts.action}{level} (dose path {facts.path or '—'})"
            lines.append(WorkLine("", text, reverse("admin:dosing_srcdecision_add")))
    if may(user, Act.SIGN_SRC_DECISION):
        unsigned = awaiting.filter(members_present=user).exclude(signatures__signer=user)
        for decision in unsigned:
            url = reverse("admin:dosing_srcdecision_act", args=[decision.pk, "sign"])
            lines.append(WorkLine("", f"{decision}: awaiting your signature", url))
    return lines


def notification_lines(user: AbstractBaseUser) -> list[WorkLine]:
    """Reminder emails whose delivery failed or is uncertain and that nobody resent yet: check, then resend."""
    statuses = (Notification.Status.UNCERTAIN, Notification.Status.FAILED)
    rows = safety_selectors.notifications_visible_to(user).filter(status__in=statuses, resends__isnull=True)
    lines = []
    for row in rows.order_by("due_at", "pk"):
        site = row.subject.site if row.subject else row.site
        due = format_local(row.due_at, site.zone if site else None)
        text = f"{row.get_kind_display()} to {row.recipient.get_username()}, due {due}: {row.get_status_display()}"
        url = reverse("admin:safety_notification_change", args=[row.pk])
        lines.append(WorkLine(row.subject.study_number if row.subject else "", text, url))
    return lines


def todays_work(user: AbstractBaseUser, *, now: datetime | None = None) -> list[WorkSection] | None:
    """The sections of today's work the user's role acts on, in the order a day is worked (None before `seed`)."""
    if not Protocol.objects.exists():
        return None
    now = now or timezone.now()
    sites = list(sites_of_member(user).order_by("code"))
    sections = []
    if may(user, Act.RECORD_RECONFIRMATION):
        sections.append(WorkSection("D−1 and D0 today", dosing_lines(sites, now=now)))
    if may(user, Act.RECORD_VISIT):
        due, overdue = visit_lines(sites, now=now)
        sections += [WorkSection("Visits due today", due), WorkSection("Visits overdue", overdue)]
    if may(user, Act.REPORT_SAE):
        sections.append(WorkSection("SAE clocks running", sae_lines(sites, now=now)))
    if may(user, Act.ADJUDICATE_DLT):
        sections.append(WorkSection("DLT candidates to adjudicate", dlt_lines(user)))
    if may(user, Act.RECORD_SRC_DECISION) or may(user, Act.SIGN_SRC_DECISION):
        sections.append(WorkSection("SRC decisions", src_lines(user, now=now)))
    if may(user, Act.RESEND_NOTIFICATION):
        sections.append(WorkSection("Emails failed or uncertain", notification_lines(user)))
    return sections
