"""What a reminder email says: its context for the templates, read from current data (study numbers only)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from dosing.models import InfusionPlan
from enrollment.selectors import protocol_current
from safety.models import AdverseEvent, Notification, Visit
from safety.rules import reminders as rules
from safety.rules.reminders import ReminderKind
from safety.rules.sae import sae_report_deadline
from safety.selectors.adverse_events import dlt_assessment_of
from safety.selectors.reminders import escalation_facts, reminder_config

HEADLINES = {
    ReminderKind.DRAW_TOMORROW: "{study_number}: D−1 platelet count tomorrow, {d_minus_1}",
    ReminderKind.D_MINUS_1_MORNING: "{study_number}: D−1 platelet count today, result by {cutoff_local}",
    ReminderKind.RECONFIRMATION_MISSING: "{study_number}: no D−1 platelet result recorded by {cutoff_local}",
    ReminderKind.VISIT_WINDOW_OPEN: "{study_number}: {visit_code} visit window opens {earliest} (until {latest})",
    ReminderKind.VISIT_TARGET_DAY: "{study_number}: {visit_code} visit target day {target} (window until {latest})",
    ReminderKind.VISIT_OVERDUE: "{study_number}: {visit_code} visit overdue (window closed {latest})",
    ReminderKind.SAE_REMINDER: "{study_number}: SAE report to the sponsor due by {deadline_local}",
    ReminderKind.SAE_OVERDUE: "{study_number}: SAE report to the sponsor OVERDUE since {deadline_local}",
    ReminderKind.SRC_DECISION_DUE: "SRC decision due: the engine recommends {recommendation}",
    ReminderKind.DLT_CANDIDATE: "{study_number}: DLT candidate to adjudicate ({term}, grade {grade})",
}


def format_local(instant: datetime, zone: ZoneInfo) -> str:
    """An instant in site-local wall-clock time with the zone, e.g. "2026-06-08 08:00 CST (Asia/Shanghai)"."""
    local = instant.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()} ({zone.key})"


def admin_link(url_name: str, *args, fallback: tuple[str, tuple] | None = None) -> str:
    """An absolute link to an admin page (SITE_URL + path); the fallback page when the first is not registered."""
    try:
        path = reverse(f"admin:{url_name}", args=args)
    except NoReverseMatch:
        if fallback is None:
            raise
        return admin_link(fallback[0], *fallback[1])
    return f"{settings.SITE_URL}{path}"


def _plan_context(plan_id: int, zone: ZoneInfo) -> dict:
    plan = InfusionPlan.objects.get(pk=plan_id)
    cutoff = rules.local_instant(plan.d_minus_1, reminder_config().reconfirmation_cutoff, zone)
    link = admin_link("dosing_infusionplan_change", plan.pk, fallback=("enrollment_subject_change", (plan.subject_id,)))
    return {
        "d_minus_1": plan.d_minus_1.isoformat(),
        "d0": (plan.d_minus_1 + timedelta(days=1)).isoformat(),
        "planned_local": format_local(plan.planned_at, zone),
        "cutoff_local": format_local(cutoff, zone),
        "link": link,
    }


def _visit_context(visit_id: int, zone: ZoneInfo) -> dict:
    visit = Visit.objects.select_related("definition").get(pk=visit_id)
    return {
        "visit_code": visit.definition.code,
        "visit_label": visit.definition.label,
        "visit_content": visit.definition.content,
        "earliest": visit.window_earliest.isoformat(),
        "target": visit.target_date.isoformat(),
        "latest": visit.window_latest.isoformat(),
        "link": admin_link("safety_visit_change", visit.pk),
    }


def _ae_context(ae_id: int, zone: ZoneInfo) -> dict:
    ae = AdverseEvent.objects.select_related("ctcae_term", "dlt_assessment").get(pk=ae_id)
    clock = reminder_config().sae_clock
    deadline = sae_report_deadline(ae.awareness_at, config=clock) if ae.awareness_at else None
    assessment = dlt_assessment_of(ae)
    return {
        "term": ae.term_name,
        "grade": ae.grade,
        "onset_date": ae.onset_date.isoformat(),
        "awareness_local": format_local(ae.awareness_at, zone) if ae.awareness_at else "",
        "deadline_local": format_local(deadline, zone) if deadline else "",
        "seriousness": ", ".join(name.removeprefix("sae_").replace("_", " ") for name in ae.seriousness_criteria),
        "flag_reason": assessment.flag_reason if assessment else "",
        "link": admin_link("safety_adverseevent_change", ae.pk),
    }


def _escalation_context(now: datetime) -> dict:
    facts = escalation_facts(protocol_current(), now=now)
    level = "" if facts.dose_level is None else f" (level {facts.dose_level})"
    return {
        "recommendation": f"{facts.action.replace('_', ' ')}{level}",
        "path": facts.path or "(no subject dosed)",
        "open_level": facts.open_level,
        "link": admin_link("dosing_trial_status"),
    }


def message_context(notification: Notification, *, now: datetime) -> dict:
    """Everything the kind's templates show; the subject appears by study number only."""
    zone = notification.site.zone if notification.site_id else ZoneInfo("UTC")
    recipient = notification.recipient
    subject = notification.subject
    context = {
        "kind": notification.kind,
        "kind_label": notification.get_kind_display(),
        "recipient_name": recipient.get_full_name() or recipient.get_username(),
        "study_number": subject.study_number if subject else "",
        "site_code": subject.site.code if subject else "",
        "site_name": subject.site.name if subject else "",
        "time_zone": zone.key,
        "due_local": format_local(notification.due_at, zone),
        "due_utc": f"{notification.due_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        "protocol_code": protocol_current().code,
    }
    family, pk = rules.parse_ref(notification.object_ref)
    readers = {"plan": _plan_context, "visit": _visit_context, "ae": _ae_context}
    context |= readers[family](pk, zone) if family in readers else _escalation_context(now)
    context["headline"] = HEADLINES[ReminderKind(notification.kind)].format(**context)
    return context
