"""When each reminder and alert is due, in site-local time (PROTOCOL.md §8). Pure: no ORM, no clock.

A reminder is an *occasion*: a kind, the object it is about, a key that encodes the dates it is about (a changed
date makes a new occasion), the instant it is due and the instant it goes stale (the next reminder of its series
takes over, or it is no longer worth sending). A sweep writes one notification per recipient for each occasion
that is due and not stale at `now`; the sender asks the same rules again before sending.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from ctit_trial.config import ProtocolSettings
from safety.rules.sae import SafetyClockConfig, sae_alerts


class ReminderKind(StrEnum):
    """Every kind of reminder email (the values are stored on notification rows)."""

    DRAW_TOMORROW = "d_minus_1_draw_tomorrow"
    D_MINUS_1_MORNING = "d_minus_1_morning"
    RECONFIRMATION_MISSING = "reconfirmation_missing"
    VISIT_WINDOW_OPEN = "visit_window_open"
    VISIT_TARGET_DAY = "visit_target_day"
    VISIT_OVERDUE = "visit_overdue"
    SAE_REMINDER = "sae_reminder"
    SAE_OVERDUE = "sae_overdue"
    SRC_DECISION_DUE = "src_decision_due"
    DLT_CANDIDATE = "dlt_candidate"


KIND_LABELS = {
    ReminderKind.DRAW_TOMORROW: "D−1 count tomorrow",
    ReminderKind.D_MINUS_1_MORNING: "D−1 count today",
    ReminderKind.RECONFIRMATION_MISSING: "D−1 result missing at cut-off",
    ReminderKind.VISIT_WINDOW_OPEN: "Visit window opens",
    ReminderKind.VISIT_TARGET_DAY: "Visit target day",
    ReminderKind.VISIT_OVERDUE: "Visit overdue",
    ReminderKind.SAE_REMINDER: "SAE report reminder",
    ReminderKind.SAE_OVERDUE: "SAE report overdue",
    ReminderKind.SRC_DECISION_DUE: "SRC decision due",
    ReminderKind.DLT_CANDIDATE: "DLT candidate to adjudicate",
}
PLAN_KINDS = (ReminderKind.DRAW_TOMORROW, ReminderKind.D_MINUS_1_MORNING, ReminderKind.RECONFIRMATION_MISSING)
VISIT_KINDS = (ReminderKind.VISIT_WINDOW_OPEN, ReminderKind.VISIT_TARGET_DAY, ReminderKind.VISIT_OVERDUE)
SAE_KINDS = (ReminderKind.SAE_REMINDER, ReminderKind.SAE_OVERDUE)
SCHEDULE_KINDS = PLAN_KINDS + VISIT_KINDS  # follow the subject's calendar; stop when the subject is off study
DECISIONS_NEEDING_SRC = ("escalate", "declare_mtd", "declare_mad", "stop")


def _clock_time(value: str, name: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError as error:
        raise ValueError(f"notifications.{name} must be a local time HH:MM, not {value!r}.") from error


@dataclass(frozen=True)
class ReminderConfig:
    """Local times and clocks of the reminders, from the `notifications` and `safety` protocol sections."""

    morning: time
    reconfirmation_cutoff: time
    visit_overdue_alert_days: int
    sae_clock: SafetyClockConfig

    @classmethod
    def from_mapping(cls, notifications: Mapping[str, Any], safety: Mapping[str, Any]) -> "ReminderConfig":
        """Typed configuration; the cut-off must come after the morning reminder, alerts inside the SAE clock."""
        morning = _clock_time(notifications["morning_reminder_local_time"], "morning_reminder_local_time")
        cutoff = _clock_time(notifications["reconfirmation_cutoff_local_time"], "reconfirmation_cutoff_local_time")
        if cutoff <= morning:
            raise ValueError(f"The D−1 cut-off {cutoff:%H:%M} must come after the morning reminder {morning:%H:%M}.")
        overdue_days = int(notifications["visit_overdue_alert_days"])
        return cls(morning, cutoff, overdue_days, SafetyClockConfig.from_mapping(safety))

    @classmethod
    def from_settings(cls, settings: ProtocolSettings) -> "ReminderConfig":
        """The reminder times and clocks of the typed protocol settings (validated at load)."""
        notifications = settings.notifications
        return cls(
            morning=time.fromisoformat(notifications.morning_reminder_local_time),
            reconfirmation_cutoff=time.fromisoformat(notifications.reconfirmation_cutoff_local_time),
            visit_overdue_alert_days=notifications.visit_overdue_alert_days,
            sae_clock=SafetyClockConfig.from_config(settings.safety),
        )


@dataclass(frozen=True)
class Occasion:
    """One reminder about one object: due from `due_at`, stale from `stale_at` (never, when None)."""

    kind: ReminderKind
    object_ref: str
    key: str
    due_at: datetime
    stale_at: datetime | None = None

    def is_stale(self, now: datetime) -> bool:
        """Whether a later reminder has taken over, or it is no longer worth sending."""
        return self.stale_at is not None and now >= self.stale_at

    def is_due(self, now: datetime) -> bool:
        """Due and not yet stale at `now`."""
        return self.due_at <= now and not self.is_stale(now)


@dataclass(frozen=True)
class PlanFacts:
    """A scheduled infusion plan of a subject on study: its site-local D−1 and whether it was reconfirmed."""

    plan_id: int
    zone: ZoneInfo
    d_minus_1: date
    planned_at: datetime
    reconfirmed: bool


@dataclass(frozen=True)
class VisitFacts:
    """A planned (not yet recorded) visit of a subject on study, with its window in site-local days."""

    visit_id: int
    zone: ZoneInfo
    earliest: date
    target: date
    latest: date


@dataclass(frozen=True)
class SaeFacts:
    """A serious AE not yet reported to the sponsor."""

    ae_id: int
    awareness_at: datetime


@dataclass(frozen=True)
class CandidateFacts:
    """A DLT candidate without a valid adjudication: never adjudicated, or invalidated by a later change."""

    ae_id: int
    invalidated: bool
    since: datetime  # when it was flagged; for an invalidated one, when the adjudication it lost was signed


@dataclass(frozen=True)
class EscalationFacts:
    """The engine's recommendation for the live dose path, and the open level."""

    action: str
    dose_level: int | None
    open_level: int | None
    path: str
    as_of: datetime


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a site-local wall-clock time on a site-local calendar day."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def plan_ref(plan_id: int) -> str:
    return f"plan:{plan_id}"


def visit_ref(visit_id: int) -> str:
    return f"visit:{visit_id}"


def ae_ref(ae_id: int) -> str:
    return f"ae:{ae_id}"


ESCALATION_REF = "escalation"


def parse_ref(object_ref: str) -> tuple[str, int | None]:
    """("visit", 12) from "visit:12"; ("escalation", None) for the trial-wide reference."""
    name, _, number = object_ref.partition(":")
    return name, int(number) if number else None


def plan_occasions(plan: PlanFacts, config: ReminderConfig) -> tuple[Occasion, ...]:
    """Draw tomorrow (morning of D−2), draw today (morning of D−1), result missing (cut-off on D−1)."""
    ref, key = plan_ref(plan.plan_id), f"{plan_ref(plan.plan_id)}:d-1:{plan.d_minus_1.isoformat()}"
    morning = local_instant(plan.d_minus_1, config.morning, plan.zone)
    cutoff = local_instant(plan.d_minus_1, config.reconfirmation_cutoff, plan.zone)
    if plan.reconfirmed:
        return ()
    day_before = local_instant(plan.d_minus_1 - timedelta(days=1), config.morning, plan.zone)
    d_minus_1_starts = local_instant(plan.d_minus_1, time(0, 0), plan.zone)  # "tomorrow" is wrong from then on
    return (
        Occasion(ReminderKind.DRAW_TOMORROW, ref, key, day_before, stale_at=d_minus_1_starts),
        Occasion(ReminderKind.D_MINUS_1_MORNING, ref, key, morning, stale_at=cutoff),
        Occasion(ReminderKind.RECONFIRMATION_MISSING, ref, key, cutoff, stale_at=plan.planned_at),
    )


def visit_occasions(visit: VisitFacts, config: ReminderConfig) -> tuple[Occasion, ...]:
    """Window opens (only when it opens before the target day), target day, overdue the morning after it closed."""
    ref = visit_ref(visit.visit_id)
    key = f"{ref}:{visit.earliest.isoformat()}/{visit.target.isoformat()}/{visit.latest.isoformat()}"
    target = local_instant(visit.target, config.morning, visit.zone)
    overdue = local_instant(visit.latest + timedelta(days=1), config.morning, visit.zone)
    occasions = [
        Occasion(ReminderKind.VISIT_TARGET_DAY, ref, key, target, stale_at=overdue),
        Occasion(
            ReminderKind.VISIT_OVERDUE,
            ref,
            key,
            overdue,
            stale_at=overdue + timedelta(days=config.visit_overdue_alert_days),
        ),
    ]
    if visit.earliest < visit.target:
        opens = local_instant(visit.earliest, config.morning, visit.zone)
        occasions.insert(0, Occasion(ReminderKind.VISIT_WINDOW_OPEN, ref, key, opens, stale_at=target))
    return tuple(occasions)


def sae_occasions(sae: SaeFacts, config: ReminderConfig) -> tuple[Occasion, ...]:
    """Reminders at the alert hours after awareness (each stale at the next), the overdue alert at the deadline."""
    ref, aware = ae_ref(sae.ae_id), sae.awareness_at.astimezone(UTC)
    *alerts, deadline = sae_alerts(aware, config=config.sae_clock)  # the SAE clock's own rule (safety.rules.sae)
    reminders = tuple(
        Occasion(
            ReminderKind.SAE_REMINDER,
            ref,
            f"{ref}:aware:{aware.isoformat()}:{alert.hours_after_awareness}h",
            alert.at,
            stale_at=after.at,
        )
        for alert, after in zip(alerts, [*alerts[1:], deadline], strict=True)
    )
    overdue_key = f"{ref}:aware:{aware.isoformat()}:{deadline.hours_after_awareness}h"
    return (*reminders, Occasion(ReminderKind.SAE_OVERDUE, ref, overdue_key, deadline.at))


def candidate_occasions(candidate: CandidateFacts) -> tuple[Occasion, ...]:
    """One alert per flagging of a DLT candidate, and one per adjudication invalidated by a later change."""
    ref = ae_ref(candidate.ae_id)
    reason = "readjudicate" if candidate.invalidated else "candidate"
    since = candidate.since.astimezone(UTC)
    return (Occasion(ReminderKind.DLT_CANDIDATE, ref, f"{ref}:{reason}:{since.isoformat()}", since),)


def src_decision_due(action: str, dose_level: int | None, open_level: int | None) -> bool:
    """The engine recommends what only a signed SRC decision can do: open another level, or end escalation."""
    if action in DECISIONS_NEEDING_SRC:
        return True
    return action == "enroll" and open_level is not None and dose_level != open_level


def escalation_occasions(facts: EscalationFacts) -> tuple[Occasion, ...]:
    """One alert per distinct recommendation that needs the SRC (the live path is part of the key)."""
    if not src_decision_due(facts.action, facts.dose_level, facts.open_level):
        return ()
    key = f"{ESCALATION_REF}:{facts.action}:L{facts.dose_level or '-'}:{facts.path}"
    return (Occasion(ReminderKind.SRC_DECISION_DUE, ESCALATION_REF, key, facts.as_of),)


def due_occasions(occasions: Iterable[Occasion], *, now: datetime) -> list[Occasion]:
    """The occasions due and not stale at `now`."""
    return [occasion for occasion in occasions if occasion.is_due(now)]
