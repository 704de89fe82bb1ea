"""The casebook's platelet chart: every recorded count of a subject by study day, drawn as a small inline SVG.

The page draws it from the geometry computed here (no script, no chart library): it prints as it shows.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 14, 34
DAY = timedelta(days=1)
COUNT_STEPS = (10, 20, 25, 50, 100, 200, 250, 500, 1000)  # ×10⁹/L between the count axis' ticks
COUNT_TICKS = 5


@dataclass(frozen=True)
class Reading:
    """One platelet count (×10⁹/L) at a study day; hours after midnight of the day count as its fraction."""

    label: str
    day: float
    count: Decimal


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Tick:
    at: float  # x (for days) or y (for counts) on the drawing
    label: str


@dataclass(frozen=True)
class PlateletChart:
    width: int
    height: int
    points: list[Point]
    polyline: str
    day_ticks: list[Tick]
    count_ticks: list[Tick]
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def _day_of_date(day: date, d0: date) -> float:
    return float((day - d0).days)


def _day_of_instant(instant: datetime, d0: date, zone: ZoneInfo) -> float:
    midnight = datetime.combine(d0, time(), tzinfo=zone)
    return round((instant.astimezone(zone) - midnight) / DAY, 3)


def platelet_readings(book) -> list[Reading]:
    """The subject's counts in study-day order: screening, D−1, visits (D0 is the baseline) and post-infusion draws."""
    if book.d0 is None:
        return []
    zone, d0 = book.subject.site.zone, book.d0
    readings = [
        Reading(f"Screening #{entry.record.attempt}", _day_of_date(entry.record.screening_date, d0), lab.value)
        for entry in book.screenings
        for lab in entry.record.labs.all()
        if lab.analyte == "platelets" and lab.value is not None
    ]
    readings += [
        Reading("D−1 reconfirmation", _day_of_instant(row.drawn_at, d0, zone), row.platelets)
        for plan in book.plans
        for row in plan.reconfirmations
    ]
    readings += [
        Reading(
            f"{entry.record.definition.code} visit", _day_of_date(entry.record.visit_date, d0), entry.record.platelets
        )
        for entry in book.visits
        if entry.record.visit_date is not None and entry.record.platelets is not None
    ]
    readings += [
        Reading(
            f"{row['time_point']} after the infusion",
            _day_of_instant(row["draw"].drawn_at, d0, zone),
            row["draw"].platelets,
        )
        for row in book.draws
        if row["draw"] is not None
    ]
    return sorted(readings, key=lambda reading: reading.day)


def _count_step(highest: Decimal) -> int:
    """The count axis' tick step: the smallest round step whose five steps reach 10 % above the highest count."""
    wanted = float(highest) * 1.1
    return next((step for step in COUNT_STEPS if step * COUNT_TICKS >= wanted), COUNT_STEPS[-1])


def platelet_chart(readings: list[Reading]) -> PlateletChart | None:
    """The chart's geometry (None without readings): days left to right, counts bottom to top from 0."""
    if not readings:
        return None
    first = min(math.floor(min(r.day for r in readings)), 0)
    last = max(math.ceil(max(r.day for r in readings)), first + 7)
    step = _count_step(max(r.count for r in readings))
    ceiling = step * COUNT_TICKS
    span_x, span_y = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(day: float) -> float:
        return round(LEFT + (day - first) / (last - first) * span_x, 1)

    def y_of(count: float) -> float:
        return round(TOP + (1 - count / ceiling) * span_y, 1)

    points = [
        Point(x_of(r.day), y_of(float(r.count)), f"{r.label} (day {r.day:g}): {r.count.normalize():f} ×10⁹/L")
        for r in readings
    ]
    days = sorted({first, *range(0, last + 1, 7), last})
    return PlateletChart(
        width=WIDTH,
        height=HEIGHT,
        points=points,
        polyline=" ".join(f"{point.x},{point.y}" for point in points),
        day_ticks=[Tick(x_of(day), f"D−{-day}" if day < 0 else f"D{day}") for day in days],
        count_ticks=[Tick(y_of(step * n), str(step * n)) for n in range(COUNT_TICKS + 1)],
    )
