"""What a reminder email says: its context for the templates, read from current data (study numbers only)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse

from ctit_trial.site_time import format_local
from dosing.models import InfusionPlan, SrcDecision
from enrollment.roles import Act, may
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

AE_ACT_WORDS = {"adjudicate": "Adjudicate the DLT candidate", "sae_report": "Report the SAE"}
AE_ACTS = {  # an AE alert's act (its name on the AE's admin page) and the role-table act it needs
    ReminderKind.DLT_CANDIDATE: ("adjudicate", Act.ADJUDICATE_DLT),
    ReminderKind.SAE_REMINDER: ("sae_report", Act.REPORT_SAE),
    ReminderKind.SAE_OVERDUE: ("sae_report", Act.REPORT_SAE),
}


def admin_link(url_name: str, *args, query: str = "") -> str:
    """An absolute link to an admin page (SITE_URL + path)."""
    return f"{settings.SITE_URL}{reverse(f'admin:{url_name}', args=args)}{query}"


def _plan_context(plan_id: int, zone: ZoneInfo) -> dict:
    plan = InfusionPlan.objects.get(pk=plan_id)
    cutoff = rules.local_instant(plan.d_minus_1, reminder_config().reconfirmation_cutoff, zone)
    return {
        "d_minus_1": plan.d_minus_1.isoformat(),
        "d0": (plan.d_minus_1 + timedelta(days=1)).isoformat(),
        "planned_local": format_local(plan.planned_at, zone),
        "cutoff_local": format_local(cutoff, zone),
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
    }


def _escalation_context(now: datetime) -> dict:
    facts = escalation_facts(protocol_current(), now=now)
    level = "" if facts.dose_level is None else f" (level {facts.dose_level})"
    return {
        "recommendation": f"{facts.action.replace('_', ' ')}{level}",
        "path": facts.path or "(no subject dosed)",
        "open_level": facts.open_level,
    }


def _ae_link(notification: Notification, ae_id: int) -> tuple[str, str]:
    """The AE's act the message asks for, when its recipient may do it (the SRC adjudicates, the investigator
    reports the SAE); the AE's page otherwise (the site's investigator reviews a DLT candidate, the sponsor follows)."""
    name, act = AE_ACTS[notification.kind]
    if may(notification.recipient, act):
        return admin_link("safety_adverseevent_act", ae_id, name), AE_ACT_WORDS[name]
    return admin_link("safety_adverseevent_change", ae_id), "Open the adverse event"


def _src_link() -> tuple[str, str]:
    """Where the SRC acts next: sign the decision awaiting signatures, or record the decision that is due."""
    awaiting = SrcDecision.objects.filter(protocol=protocol_current(), status=SrcDecision.Status.AWAITING_SIGNATURES)
    decision_id = awaiting.values_list("pk", flat=True).first()
    if decision_id is None:
        return admin_link("dosing_srcdecision_add"), "Record the SRC decision"
    return admin_link("dosing_srcdecision_act", decision_id, "sign"), "Sign the SRC decision"


def act_link(notification: Notification) -> tuple[str, str]:
    """The admin page where the recipient does what the message asks, and the words of its link."""
    family, pk = rules.parse_ref(notification.object_ref)
    if family == "plan":  # the D−1 count is recorded on the reconfirmation form, the subject chosen
        url = admin_link("dosing_reconfirmation_add", query=f"?subject={notification.subject_id}")
        return url, "Record the D−1 platelet reconfirmation"
    if family == "visit":  # recorded, or marked missed, on the visit's page
        return admin_link("safety_visit_change", pk), "Record the visit (or mark it missed)"
    if family == "ae":
        return _ae_link(notification, pk)
    return _src_link()


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
    context["link"], context["link_text"] = act_link(notification)
    family, pk = rules.parse_ref(notification.object_ref)
    readers = {"plan": _plan_context, "visit": _visit_context, "ae": _ae_context}
    context |= readers[family](pk, zone) if family in readers else _escalation_context(now)
    context["headline"] = HEADLINES[ReminderKind(notification.kind)].format(**context)
    return context
