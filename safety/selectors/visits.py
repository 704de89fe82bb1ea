"""Reads of the visit schedule: visits the caller may see, a subject's visits, overdue visits."""

from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from ctit_trial.errors import NotVisible
from enrollment.models import Site, Subject
from enrollment.selectors import sites_visible_to, subjects_visible_to
from safety.models import Visit
from safety.rules import windows
from safety.selectors.common import site_today


def visits_visible_to(user: AbstractBaseUser) -> QuerySet[Visit]:
    """Visits of the subjects at the sites the user may see."""
    return (
        Visit.objects.filter(subject__in=subjects_visible_to(user))
        .select_related("subject__site", "definition")
        .order_by("subject__site__code", "subject__sequence", "target_date", "pk")
    )


def visit_get_visible(user: AbstractBaseUser, *, pk: int) -> Visit:
    """One visit, or NotVisible when it does not exist or belongs to another site."""
    visit = visits_visible_to(user).filter(pk=pk).first()
    if visit is None:
        raise NotVisible("Visit not found.")
    return visit


def visits_of(subject: Subject) -> QuerySet[Visit]:
    """A subject's scheduled visits in calendar order."""
    return subject.visits.select_related("subject__site", "definition").order_by("target_date", "pk")


def visits_overdue(*, site: Site, today: date) -> QuerySet[Visit]:
    """Planned visits at a site whose window closed before `today` (site-local) without a recorded visit."""
    return (
        Visit.objects.filter(subject__site=site, status=Visit.Status.PLANNED, window_latest__lt=today)
        .select_related("subject__site", "definition")
        .order_by("window_latest", "subject__sequence", "pk")
    )


def visits_overdue_visible_to(user: AbstractBaseUser, *, now: datetime) -> QuerySet[Visit]:
    """Overdue visits at every site the user may see, each site judged by its own local day."""
    condition = Q(pk__in=[])
    for site in sites_visible_to(user):
        condition |= Q(subject__site=site, window_latest__lt=site_today(site, now=now))
    return (
        Visit.objects.filter(condition, status=Visit.Status.PLANNED)
        .select_related("subject__site", "definition")
        .order_by("window_latest", "subject__site__code", "subject__sequence", "pk")
    )


def scheduled_visit(visit: Visit) -> windows.ScheduledVisit:
    """The visit as the window rules see it."""
    return windows.ScheduledVisit(
        code=visit.definition.code,
        label=visit.definition.label,
        target_day=visit.definition.target_day,
        target_date=visit.target_date,
        earliest=visit.window_earliest,
        latest=visit.window_latest,
    )


def deviation_of(visit: Visit, visit_date: date) -> str:
    """Why a visit date is a protocol deviation, or "" when it lies inside the visit's window."""
    scheduled = scheduled_visit(visit)
    position = windows.classify_visit_date(scheduled, visit_date)
    if position == windows.WindowPosition.IN_WINDOW:
        return ""
    if position == windows.WindowPosition.EARLY:
        days, side = (scheduled.earliest - visit_date).days, "before"
    else:
        days, side = (visit_date - scheduled.latest).days, "after"
    definition = visit.definition
    return (
        f"Out of window: {visit_date} is {days} day(s) {side} the {definition.code} window "
        f"{scheduled.earliest}…{scheduled.latest} (D{definition.target_day} "
        f"−{definition.window_before}/+{definition.window_after})."
    )
