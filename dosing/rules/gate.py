"""The dosing gate (PROTOCOL.md §5) as pure decisions: D−1, the reconfirmation, the D0 checklist, dose and draws.

No ORM and no clock: instants are timezone-aware, the site's zone and `now` are passed in.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from ctit_trial.config import ProtocolSettings
from enrollment.rules.criteria_common import days_window, fmt_duration, fmt_instant, recent_event

Status = Literal["pass", "fail", "missing"]


@dataclass(frozen=True)
class GateLimits:
    """The gate's configured limits (seeds/protocol.yaml `dosing_gate` and `scheduling`)."""

    platelets_min: Decimal
    platelets_max: Decimal
    transfusion_free_hours: int
    thrombopoietic_free_days: int
    surgery_free_days: int
    draw_minutes: tuple[int, ...]
    draw_tolerance_minutes: int
    dose_tolerance_percent: Decimal
    min_hours_between_infusions: int
    sentinel_days: int
    screening_labs_valid_days: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "GateLimits":
        """Typed limits from the protocol configuration."""
        gate, scheduling = config["dosing_gate"], config["scheduling"]
        return cls(
            platelets_min=Decimal(str(gate["reconfirmation_platelets_min"])),
            platelets_max=Decimal(str(gate["reconfirmation_platelets_max"])),
            transfusion_free_hours=int(gate["transfusion_free_hours"]),
            thrombopoietic_free_days=int(gate["thrombopoietic_free_days"]),
            surgery_free_days=int(gate["surgery_free_days"]),
            draw_minutes=tuple(int(minutes) for minutes in gate["post_infusion_draws_minutes"]),
            draw_tolerance_minutes=int(gate["post_infusion_draw_tolerance_minutes"]),
            dose_tolerance_percent=Decimal(str(scheduling["dose_tolerance_percent"])),
            min_hours_between_infusions=int(scheduling["min_hours_between_infusions"]),
            sentinel_days=int(scheduling["sentinel_days"]),
            screening_labs_valid_days=int(scheduling["screening_labs_valid_days"]),
        )

    @classmethod
    def from_settings(cls, settings: ProtocolSettings) -> "GateLimits":
        """The limits of the typed protocol settings (validated at load)."""
        gate, scheduling = settings.dosing_gate, settings.scheduling
        return cls(
            platelets_min=gate.reconfirmation_platelets_min,
            platelets_max=gate.reconfirmation_platelets_max,
            transfusion_free_hours=gate.transfusion_free_hours,
            thrombopoietic_free_days=gate.thrombopoietic_free_days,
            surgery_free_days=gate.surgery_free_days,
            draw_minutes=gate.post_infusion_draws_minutes,
            draw_tolerance_minutes=gate.post_infusion_draw_tolerance_minutes,
            dose_tolerance_percent=scheduling.dose_tolerance_percent,
            min_hours_between_infusions=scheduling.min_hours_between_infusions,
            sentinel_days=scheduling.sentinel_days,
            screening_labs_valid_days=scheduling.screening_labs_valid_days,
        )


def time_point_name(minutes_after_end: int) -> str:
    """A post-infusion draw's name: "1h", "2h", "4h" (minutes when not whole hours)."""
    hours, minutes = divmod(minutes_after_end, 60)
    return f"{hours}h" if not minutes else f"{minutes_after_end}min"


def infusion_day(planned_at: datetime, tz: tzinfo) -> date:
    """D0: the site-local calendar day of the (planned) infusion start."""
    return planned_at.astimezone(tz).date()


def d_minus_1(planned_at: datetime, tz: tzinfo) -> date:
    """D−1: the site-local calendar day before D0, whatever the server's zone."""
    return infusion_day(planned_at, tz) - timedelta(days=1)


@dataclass(frozen=True)
class Outcome:
    """A gate decision: whether it passes and the reason a person reads."""

    ok: bool
    reason: str


def reconfirmation_outcome(*, platelets: Decimal, bleeding: bool, limits: GateLimits) -> Outcome:
    """Cleared when the D−1 count is within the range (inclusive) and there is no bleeding."""
    low, high = limits.platelets_min, limits.platelets_max
    problems = []
    if not low <= platelets <= high:
        problems.append(f"platelets {platelets}×10⁹/L is outside {low}–{high}×10⁹/L")
    if bleeding:
        problems.append("bleeding present")
    if problems:
        return Outcome(False, f"Not cleared: {'; '.join(problems)}. Reschedule (a new D−1) or record a screen failure.")
    return Outcome(True, f"Cleared: platelets {platelets}×10⁹/L within {low}–{high}×10⁹/L, no bleeding.")


def draw_day_problem(*, drawn_at: datetime, d_minus_1_day: date, tz: tzinfo) -> str | None:
    """Why a count cannot be the D−1 reconfirmation: it was drawn on another site-local day."""
    drawn_on = drawn_at.astimezone(tz).date()
    if drawn_on == d_minus_1_day:
        return None
    return (
        f"The count was drawn on {drawn_on} ({fmt_instant(drawn_at, tz)}), not on D−1 ({d_minus_1_day}): "
        f"a count drawn on another day does not count as the reconfirmation."
    )


@dataclass(frozen=True)
class ChecklistItem:
    """One line of the pre-infusion checklist."""

    code: str
    status: Status
    reason: str


@dataclass(frozen=True)
class GateFacts:
    """What the D0 checklist reads; event fields merge screening and the D0 assessment (None: none on record)."""

    start: datetime
    planned_d0: date
    reconfirmation: Outcome | None  # the reconfirmation recorded on the plan's D−1, if any
    assessed: bool  # the D0 pre-infusion assessment is recorded
    baseline_drawn_at: datetime | None
    last_transfusion_at: datetime | None
    last_thrombopoietic_on: date | None
    last_surgery_on: date | None


def checklist(facts: GateFacts, *, limits: GateLimits, tz: tzinfo) -> list[ChecklistItem]:
    """Every pre-infusion check for an infusion starting at `facts.start` (PROTOCOL.md §5)."""
    items = [_day_item(facts, tz), _reconfirmation_item(facts)]
    if not facts.assessed:
        note = "Record the D0 pre-infusion assessment (baseline count and events since screening)."
        return items + [ChecklistItem(code, "missing", note) for code in ("BASELINE", "IN3", "EX5", "EX10")]
    d0 = infusion_day(facts.start, tz)
    return items + [
        _baseline_item(facts, tz),
        _transfusion_item(facts, limits, tz),
        _event_item(
            "EX5", "thrombopoietic drug use", facts.last_thrombopoietic_on, d0, limits.thrombopoietic_free_days
        ),
        _event_item("EX10", "major surgery or severe trauma", facts.last_surgery_on, d0, limits.surgery_free_days),
    ]


def blocking(items: list[ChecklistItem]) -> list[ChecklistItem]:
    """The items that block the infusion record."""
    return [item for item in items if item.status != "pass"]


def _day_item(facts: GateFacts, tz: tzinfo) -> ChecklistItem:
    day = infusion_day(facts.start, tz)
    if day == facts.planned_d0:
        return ChecklistItem("D0", "pass", f"The infusion starts on the planned D0 {day}.")
    return ChecklistItem(
        "D0", "fail", f"The infusion would start on {day}, not the planned D0 {facts.planned_d0}: reschedule first."
    )


def _reconfirmation_item(facts: GateFacts) -> ChecklistItem:
    d_minus_1_day = facts.planned_d0 - timedelta(days=1)
    if facts.reconfirmation is None:
        return ChecklistItem("D-1", "missing", f"No platelet reconfirmation recorded on D−1 ({d_minus_1_day}).")
    return ChecklistItem("D-1", "pass" if facts.reconfirmation.ok else "fail", facts.reconfirmation.reason)


def _baseline_item(facts: GateFacts, tz: tzinfo) -> ChecklistItem:
    drawn = facts.baseline_drawn_at
    if drawn is None:
        return ChecklistItem("BASELINE", "missing", "No baseline platelet count drawn on D0.")
    if drawn.astimezone(tz).date() != facts.planned_d0 or drawn > facts.start:
        return ChecklistItem(
            "BASELINE",
            "fail",
            f"The baseline count drawn {fmt_instant(drawn, tz)} is not a D0 pre-infusion count "
            f"(D0 {facts.planned_d0}, start {fmt_instant(facts.start, tz)}).",
        )
    return ChecklistItem("BASELINE", "pass", f"Baseline count drawn {fmt_instant(drawn, tz)}, before the start.")


def _transfusion_item(facts: GateFacts, limits: GateLimits, tz: tzinfo) -> ChecklistItem:
    last, hours = facts.last_transfusion_at, limits.transfusion_free_hours
    if last is None:
        return ChecklistItem("IN3", "pass", "No platelet transfusion on record.")
    subject = f"Last platelet transfusion at {fmt_instant(last, tz)}"
    if last > facts.start:
        return ChecklistItem("IN3", "fail", f"{subject} is after the infusion start {fmt_instant(facts.start, tz)}.")
    gap = facts.start - last
    status = "pass" if gap >= timedelta(hours=hours) else "fail"
    return ChecklistItem(
        "IN3", status, f"{subject} is {fmt_duration(gap)} before the start; at least {hours} hours are required."
    )


def _event_item(code: str, label: str, event: date | None, d0: date, days: int) -> ChecklistItem:
    finding = recent_event(code, label, event, days_window(d0, days, "infusion day"), "start")
    return ChecklistItem(code, finding.status, finding.text)


@dataclass(frozen=True)
class DoseCheck:
    """The dose given against the level's dose: cells given and the deviation in percent (signed)."""

    cells_given: int
    deviation_percent: Decimal
    beyond_tolerance: bool


def dose_check(
    *, product_viable_cells: int, fraction_percent: Decimal, level_cells: int, limits: GateLimits
) -> DoseCheck:
    """Cells given = product cells × fraction given; beyond the tolerance a reason is required."""
    given = int((Decimal(product_viable_cells) * fraction_percent / 100).to_integral_value(ROUND_HALF_UP))
    deviation = ((Decimal(given) - level_cells) * 100 / level_cells).quantize(Decimal("0.1"), ROUND_HALF_UP)
    return DoseCheck(given, deviation, abs(deviation) > limits.dose_tolerance_percent)


def draw_deviation(*, ended_at: datetime, minutes: int, drawn_at: datetime, limits: GateLimits, tz: tzinfo) -> str:
    """Why a post-infusion draw is off time ('' when within the allowed deviation)."""
    target = ended_at + timedelta(minutes=minutes)
    off = drawn_at - target
    allowed = timedelta(minutes=limits.draw_tolerance_minutes)
    if abs(off) <= allowed:
        return ""
    direction = "late" if off > timedelta(0) else "early"
    return (
        f"Drawn {fmt_duration(abs(off))} {direction} for the {minutes}-minute draw (target "
        f"{fmt_instant(target, tz)}, allowed ±{limits.draw_tolerance_minutes} min)."
    )


def spacing_problem(*, planned_at: datetime, others: Mapping[str, datetime], limits: GateLimits, tz: tzinfo) -> str:
    """Why another subject's planned infusion is too close ('' when all are far enough apart)."""
    gap = timedelta(hours=limits.min_hours_between_infusions)
    for study_number, other in sorted(others.items(), key=lambda item: item[1]):
        if abs(other - planned_at) < gap:
            return (
                f"{study_number} is planned at {fmt_instant(other, tz)}: infusions must be at least "
                f"{limits.min_hours_between_infusions} hours apart."
            )
    return ""


def actual_start_problem(
    *, started_at: datetime, others: Mapping[str, datetime], level_starts: Sequence[datetime], limits: GateLimits, tz
) -> str:
    """Why an infusion may not have started at `started_at` ('' when it may): the minimum gap to every other
    infusion (`others`, by study number) and the sentinel rule at its level (`level_starts`: the other infusions
    there). The first infusion at a level is observed `sentinel_days` before the next one there."""
    gap = timedelta(hours=limits.min_hours_between_infusions)
    for study_number, other in sorted(others.items(), key=lambda item: item[1]):
        if abs(other - started_at) < gap:
            return (
                f"{study_number} was infused at {fmt_instant(other, tz)}: infusions must start at least "
                f"{limits.min_hours_between_infusions} hours apart."
            )
    if not level_starts:
        return ""
    sentinel, observation = min(level_starts), timedelta(days=limits.sentinel_days)
    if started_at >= sentinel and started_at < sentinel + observation:
        return (
            f"The first subject at this level (infused {fmt_instant(sentinel, tz)}) is observed "
            f"{limits.sentinel_days} days: no infusion at this level before {fmt_instant(sentinel + observation, tz)}."
        )
    if started_at < sentinel and sentinel < started_at + observation:
        return (
            f"Another subject at this level was infused at {fmt_instant(sentinel, tz)}, less than "
            f"{limits.sentinel_days} days after this start: the sentinel must be observed first."
        )
    return ""


# Physiological plausibility of recorded vital signs (an entry outside is a typo, not a measurement).
VITAL_RANGES: dict[str, tuple[Decimal, Decimal, str]] = {
    "temperature_c": (Decimal(30), Decimal(45), "°C"),
    "heart_rate_bpm": (Decimal(20), Decimal(250), "/min"),
    "systolic_mmhg": (Decimal(40), Decimal(300), "mmHg"),
    "diastolic_mmhg": (Decimal(20), Decimal(200), "mmHg"),
    "respiratory_rate": (Decimal(4), Decimal(80), "/min"),
    "spo2_percent": (Decimal(50), Decimal(100), "%"),
}
VITALS_AFTER_END_HOURS = 12


def vital_signs_problems(
    values: Mapping[str, Any], *, phase: str, started_at: datetime, ended_at: datetime, tz: tzinfo
) -> dict[str, str]:
    """What is implausible in one set of vital signs around the infusion, by field ({} when nothing is).

    Before: on the infusion day (site-local) and not after the start. After: not before the end and within
    `VITALS_AFTER_END_HOURS` of it. Each value within its physiological range; diastolic below systolic."""
    problems = {}
    measured, day = values["measured_at"], started_at.astimezone(tz).date()
    if phase == "before" and measured > started_at:
        problems["measured_at"] = "Vital signs before must be taken before the start."
    elif phase == "before" and measured.astimezone(tz).date() != day:
        problems["measured_at"] = (
            f"Vital signs before are taken on the infusion day ({day}); these were taken on "
            f"{measured.astimezone(tz).date()}."
        )
    elif phase == "after" and measured < ended_at:
        problems["measured_at"] = "Vital signs after must be taken after the end."
    elif phase == "after" and measured > ended_at + timedelta(hours=VITALS_AFTER_END_HOURS):
        problems["measured_at"] = (
            f"Vital signs after are taken within {VITALS_AFTER_END_HOURS} hours of the end "
            f"({fmt_instant(ended_at, tz)}); these were taken at {fmt_instant(measured, tz)}."
        )
    for name, (low, high, unit) in VITAL_RANGES.items():
        value = values.get(name)
        if value is not None and not low <= Decimal(value) <= high:
            problems[name] = f"{value} is outside the plausible range {low}–{high} {unit}."
    systolic, diastolic = values.get("systolic_mmhg"), values.get("diastolic_mmhg")
    if "diastolic_mmhg" not in problems and systolic is not None and diastolic is not None and diastolic >= systolic:
        problems["diastolic_mmhg"] = f"The diastolic pressure ({diastolic}) must be below the systolic ({systolic})."
    return problems
