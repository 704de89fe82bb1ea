"""The visit schedule: created from the infusion (D0 in site-local days), shifted, recorded, marked missed, closed
when the subject leaves the trial."""

from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ctit_trial.audit import require_reason, save_audited
from ctit_trial.errors import Conflict, PermissionDenied
from dosing.models import Infusion
from enrollment.models import Subject
from enrollment.roles import Act, may
from enrollment.services import subject_status_change
from safety import selectors
from safety.models import VISIT_TRANSITIONS, Visit, VisitDefinition
from safety.rules import windows
from safety.rules.reminders import visit_ref
from safety.selectors.common import site_zone
from safety.services.common import raise_if_any, require_site_member, subject_lock
from safety.services.dlt import dlt_flags_refresh
from safety.services.notifications import notifications_cancel_stale


def _schedule(infusion: Infusion) -> tuple[date, dict[int, tuple[VisitDefinition, windows.ScheduledVisit]]]:
    """D0 and every follow-up visit (target day ≥ 0) placed on the subject's calendar, by definition id."""
    d0 = windows.d0_date(infusion.started_at, site_zone(infusion.subject.site))
    definitions = VisitDefinition.objects.filter(protocol_id=infusion.dose_level.protocol_id, target_day__gte=0)
    return d0, {
        row.pk: (row, windows.schedule_visit(d0, windows.VisitDefinition(**_window_fields(row))))
        for row in definitions.order_by("target_day", "pk")
    }


def _window_fields(row: VisitDefinition) -> dict:
    fields = ("code", "label", "target_day", "window_before", "window_after")
    return {name: getattr(row, name) for name in fields}


@transaction.atomic
def visit_schedule_create(*, actor: AbstractBaseUser, infusion: Infusion) -> list[Visit]:
    """Create the subject's D0…D30 visits from the infusion; idempotent (returns only the visits created)."""
    subject = subject_lock(infusion.subject)
    infusion.subject = subject
    d0, schedule = _schedule(infusion)
    existing = set(Visit.objects.filter(subject=subject).values_list("definition_id", flat=True))
    created = []
    for definition_id, (definition, placed) in schedule.items():
        if definition_id in existing:
            continue
        visit = Visit(
            subject=subject,
            definition=definition,
            target_date=placed.target_date,
            window_earliest=placed.earliest,
            window_latest=placed.latest,
        )
        save_audited(visit, actor=actor, reason=f"Visit schedule created from the infusion (D0 = {d0})")
        created.append(visit)
    if created:
        dlt_flags_refresh(actor=actor, subject=subject, reason=f"D0 set to {d0}: DLT flags recomputed")
    return created


@transaction.atomic
def visit_schedule_shift(*, actor: AbstractBaseUser, infusion: Infusion, reason: str | None) -> list[Visit]:
    """Move the planned, not yet recorded visits, and the D0 visit (the infusion day itself), to the infusion's
    (corrected) D0; returns the visits moved."""
    reason = require_reason(reason)
    subject = subject_lock(infusion.subject)
    infusion.subject = subject
    d0, schedule = _schedule(infusion)
    moved = []
    planned = Visit.objects.select_for_update().filter(
        Q(status=Visit.Status.PLANNED) | Q(definition__target_day=0), subject=subject
    )
    for visit in planned.order_by("target_date", "pk"):
        placed = schedule[visit.definition_id][1]
        wanted = (placed.target_date, placed.earliest, placed.latest)
        if (visit.target_date, visit.window_earliest, visit.window_latest) == wanted:
            continue
        visit.target_date, visit.window_earliest, visit.window_latest = wanted
        save_audited(visit, actor=actor, reason=reason)
        notifications_cancel_stale(object_ref=visit_ref(visit.pk), reason=f"Visit moved ({reason})")
        moved.append(visit)
    dlt_flags_refresh(actor=actor, subject=subject, reason=f"D0 is {d0}: DLT flags recomputed ({reason})")
    return moved


def _visit_lock(visit: Visit) -> Visit:
    return Visit.objects.select_for_update(of=("self",)).select_related("subject__site", "definition").get(pk=visit.pk)


def _require_act(actor: AbstractBaseUser, act: Act, what: str) -> None:
    if not may(actor, act):
        raise PermissionDenied(f"Your role does not allow you to {what}.")


def _require_follow_up_open(visit: Visit) -> None:
    """After close-out the follow-up is complete: no visit is recorded or marked missed any more."""
    if visit.subject.status == Subject.Status.COMPLETED:
        raise Conflict(f"The follow-up of {visit.subject} is closed out: its visits can no longer be changed.")


def _visit_date_error(subject: Subject, visit_date: date) -> str | None:
    """A visit takes place between the infusion day (D0 itself allowed) and site-local today, after consent."""
    today = selectors.site_today(subject.site, now=timezone.now())
    if visit_date > today:
        return f"The visit date cannot be in the future (today at {subject.site.code} is {today})."
    d0 = selectors.subject_d0(subject)
    if d0 is not None and visit_date < d0:
        return f"The visit date cannot be before the infusion day ({d0})."
    consented = selectors.consent_date_of(subject)
    if consented is not None and visit_date < consented:
        return f"The visit date cannot be before the subject's consent ({consented})."
    return None


def visit_errors(visit: Visit, *, visit_date: date, platelets: Decimal | None) -> dict[str, str | None]:
    """What is wrong with recording a visit on this date with this count."""
    return {
        "visit_date": _visit_date_error(visit.subject, visit_date),
        "platelets": "A platelet count cannot be negative." if platelets is not None and platelets < 0 else None,
    }


@transaction.atomic
def visit_record(
    *,
    actor: AbstractBaseUser,
    visit: Visit,
    visit_date: date,
    platelets: Decimal | None,
    ae_review_done: bool,
    reason: str | None = None,
) -> Visit:
    """Record a visit; out of window it is recorded and flagged as a deviation. Later edits need a reason."""
    _require_act(actor, Act.RECORD_VISIT, "record visits")
    visit = _visit_lock(visit)
    require_site_member(actor, visit.subject)
    _require_follow_up_open(visit)
    is_edit = visit.status != Visit.Status.PLANNED
    reason = require_reason(reason) if is_edit else "Visit recorded"
    raise_if_any(visit_errors(visit, visit_date=visit_date, platelets=platelets))
    deviation = selectors.deviation_of(visit, visit_date)
    values = {"visit_date": visit_date, "platelets": platelets, "ae_review_done": ae_review_done}
    values |= {"status": Visit.Status.DONE, "deviation": bool(deviation), "deviation_reason": deviation}
    if all(getattr(visit, field) == value for field, value in values.items()):
        return visit
    for field, value in values.items():
        setattr(visit, field, value)
    save_audited(visit, actor=actor, reason=f"{reason}; protocol deviation" if deviation and not is_edit else reason)
    notifications_cancel_stale(object_ref=visit_ref(visit.pk), reason="Visit recorded")
    return visit


@transaction.atomic
def visit_mark_missed(*, actor: AbstractBaseUser, visit: Visit, reason: str | None) -> Visit:
    """Confirm that a planned visit whose window has closed did not take place (it may still be recorded late)."""
    _require_act(actor, Act.MARK_VISIT_MISSED, "mark visits missed")
    reason = require_reason(reason)
    visit = _visit_lock(visit)
    require_site_member(actor, visit.subject)
    _require_follow_up_open(visit)
    if Visit.Status.MISSED not in VISIT_TRANSITIONS[visit.status]:
        raise Conflict(f"{visit} is {visit.get_status_display().lower()}: only a planned visit can be missed.")
    today = selectors.site_today(visit.subject.site, now=timezone.now())
    if today <= visit.window_latest:
        raise Conflict(
            f"The {visit.definition.code} window ({visit.window_earliest}…{visit.window_latest}) has not closed: "
            f"a visit is missed only once its window has closed."
        )
    visit.status = Visit.Status.MISSED
    save_audited(visit, actor=actor, reason=reason)
    notifications_cancel_stale(object_ref=visit_ref(visit.pk), reason="Visit marked missed")
    return visit


@transaction.atomic
def subject_close_out(*, actor: AbstractBaseUser, subject) -> None:
    """Complete a dosed subject's follow-up once the last scheduled visit (D30) is recorded."""
    _require_act(actor, Act.CLOSE_OUT, "close out a subject's follow-up")
    subject = subject_lock(subject)
    require_site_member(actor, subject)
    last = (
        Visit.objects.filter(subject=subject).select_related("definition").order_by("-definition__target_day").first()
    )
    if subject.status != Subject.Status.DOSED or last is None:
        raise Conflict(f"{subject} is {subject.get_status_display().lower()}: only a dosed subject is closed out.")
    if last.status != Visit.Status.DONE:
        raise Conflict(f"The {last.definition.code} visit of {subject} is not recorded: record it before closing out.")
    subject_status_change(
        actor=actor,
        subject=subject,
        to=Subject.Status.COMPLETED,
        reason=f"Follow-up closed out after {last.definition.code}",
    )


@transaction.atomic
def visits_close_for_discontinuation(*, actor: AbstractBaseUser, subject: Subject, reason: str | None) -> list[Visit]:
    """Mark the planned visits of a subject who left the trial missed (they will not take place), saying why."""
    # Missed is the visit model's "did not take place": no reminder or overdue alert follows, and a contact that
    # does happen later (a phone call at D30) can still be recorded on the visit.
    reason = require_reason(reason)
    subject = subject_lock(subject)
    require_site_member(actor, subject)
    if subject.status != Subject.Status.WITHDRAWN:
        raise Conflict(f"{subject} is {subject.get_status_display().lower()}: only a withdrawn subject's visits close.")
    closed = []
    planned = Visit.objects.select_for_update().filter(subject=subject, status=Visit.Status.PLANNED)
    for visit in planned.select_related("definition").order_by("target_date", "pk"):
        visit.status = Visit.Status.MISSED
        save_audited(visit, actor=actor, reason=f"Not done, the subject left the trial: {reason}")
        notifications_cancel_stale(object_ref=visit_ref(visit.pk), reason="The subject left the trial")
        closed.append(visit)
    return closed
