"""Study days and visit windows in site-local calendar days (D0 = infusion day, PROTOCOL.md §2)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from ctit_trial.config import protocol_seed


class WindowPosition(StrEnum):
    """Where a visit date falls relative to its allowed window."""

    EARLY = "early"
    IN_WINDOW = "in_window"
    LATE = "late"


@dataclass(frozen=True)
class VisitDefinition:
    """A protocol visit: target study day and the days allowed before and after it."""

    code: str
    label: str
    target_day: int
    window_before: int
    window_after: int

    def __post_init__(self) -> None:
        if self.window_before < 0 or self.window_after < 0:
            raise ValueError(f"Visit {self.code}: window days cannot be negative.")


@dataclass(frozen=True)
class ScheduledVisit:
    """A visit placed on a subject's calendar: target date and allowed window [earliest, latest]."""

    code: str
    label: str
    target_day: int
    target_date: date
    earliest: date
    latest: date


def visit_definitions_from_config(visits: Iterable[Mapping[str, Any]]) -> tuple[VisitDefinition, ...]:
    """Typed visit definitions from the `visits` section of the protocol configuration."""
    return tuple(
        VisitDefinition(
            code=raw["code"],
            label=raw["label"],
            target_day=int(raw["target_day"]),
            window_before=int(raw["window_before"]),
            window_after=int(raw["window_after"]),
        )
        for raw in visits
    )


def load_visit_definitions() -> tuple[VisitDefinition, ...]:
    """The visit definitions of seeds/protocol.yaml (validated by the typed loader)."""
    return tuple(
        VisitDefinition(visit.code, visit.label, visit.target_day, visit.window_before, visit.window_after)
        for visit in protocol_seed().visits
    )


def _require_aware(instant: datetime, name: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware instant, not a naive datetime.")


def site_local_date(instant: datetime, tz: ZoneInfo) -> date:
    """The calendar day of an instant at the site."""
    _require_aware(instant, "instant")
    return instant.astimezone(tz).date()


def date_of_study_day(d0: date, study_day: int) -> date:
    """The calendar date of a study day (D0 = d0, D−1 = the day before)."""
    return d0 + timedelta(days=study_day)


def study_day_of_date(day: date, *, d0: date) -> int:
    """The study day of a site-local calendar date (D0 = 0, D−1 = −1)."""
    return (day - d0).days


def study_day(instant: datetime, *, d0: date, tz: ZoneInfo) -> int:
    """The study day of an instant, counted in the site's calendar days."""
    return study_day_of_date(site_local_date(instant, tz), d0=d0)


def d0_date(infusion_at: datetime, tz: ZoneInfo) -> date:
    """D0: the site-local calendar day of the (planned or actual) infusion instant."""
    return site_local_date(infusion_at, tz)


def d_minus_1_date(planned_infusion_at: datetime, tz: ZoneInfo) -> date:
    """D−1: the site-local calendar day before the planned infusion."""
    return date_of_study_day(d0_date(planned_infusion_at, tz), -1)


def schedule_visit(d0: date, definition: VisitDefinition) -> ScheduledVisit:
    """Place one visit on the calendar of a subject whose D0 is d0."""
    target = date_of_study_day(d0, definition.target_day)
    return ScheduledVisit(
        code=definition.code,
        label=definition.label,
        target_day=definition.target_day,
        target_date=target,
        earliest=target - timedelta(days=definition.window_before),
        latest=target + timedelta(days=definition.window_after),
    )


def schedule_visits(d0: date, definitions: Iterable[VisitDefinition]) -> tuple[ScheduledVisit, ...]:
    """Every visit's target date and window for a subject whose D0 is d0."""
    return tuple(schedule_visit(d0, definition) for definition in definitions)


def classify_visit_date(visit: ScheduledVisit, visit_date: date) -> WindowPosition:
    """Early, in window or late: out-of-window visits are recorded and flagged, never refused."""
    if visit_date < visit.earliest:
        return WindowPosition.EARLY
    if visit_date > visit.latest:
        return WindowPosition.LATE
    return WindowPosition.IN_WINDOW


def is_window_open(visit: ScheduledVisit, today: date) -> bool:
    """Whether today (site-local) lies inside the visit's window."""
    return visit.earliest <= today <= visit.latest


def is_overdue(visit: ScheduledVisit, today: date, *, visit_date: date | None = None) -> bool:
    """Whether the window closed before today (site-local) with no visit recorded."""
    return visit_date is None and today > visit.latest
