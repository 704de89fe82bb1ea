"""SAE reporting clock (investigator → sponsor) and SUSAR clocks (sponsor), PROTOCOL.md §6 and §8."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from ctit_trial.config import protocol_seed
from ctit_trial.config.protocol import SafetyConfig


class ReportStatus(StrEnum):
    """A report clock's state: reported on time or late; not yet reported and due or overdue."""

    ON_TIME = "on_time"
    DUE = "due"
    OVERDUE = "overdue"
    REPORTED_LATE = "reported_late"


class AlertKind(StrEnum):
    """A reminder before the SAE deadline, or the overdue alert at it."""

    REMINDER = "reminder"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class SafetyClockConfig:
    """Clock lengths from the `safety` section of the protocol configuration."""

    sae_report_hours: int
    sae_alert_hours: tuple[int, ...]
    susar_fatal_days: int
    susar_fatal_completion_extra_days: int
    susar_other_days: int

    @classmethod
    def from_mapping(cls, safety: Mapping[str, Any]) -> "SafetyClockConfig":
        """Typed clock configuration from the `safety` section."""
        alert_hours = tuple(sorted(int(hours) for hours in safety["sae_alert_hours"]))
        report_hours = int(safety["sae_report_hours"])
        if any(not 0 < hours < report_hours for hours in alert_hours):
            raise ValueError(f"SAE alert hours {alert_hours} must lie between 0 and {report_hours} h.")
        return cls(
            sae_report_hours=report_hours,
            sae_alert_hours=alert_hours,
            susar_fatal_days=int(safety["susar_fatal_days"]),
            susar_fatal_completion_extra_days=int(safety["susar_fatal_completion_extra_days"]),
            susar_other_days=int(safety["susar_other_days"]),
        )

    @classmethod
    def from_config(cls, safety: SafetyConfig) -> "SafetyClockConfig":
        """The clocks of the typed `safety` section (validated at load: alerts fall inside the report clock)."""
        return cls(
            sae_report_hours=safety.sae_report_hours,
            sae_alert_hours=tuple(sorted(safety.sae_alert_hours)),
            susar_fatal_days=safety.susar_fatal_days,
            susar_fatal_completion_extra_days=safety.susar_fatal_completion_extra_days,
            susar_other_days=safety.susar_other_days,
        )


@dataclass(frozen=True)
class SaeAlert:
    """One scheduled SAE clock alert: its kind, instant and hours after awareness."""

    kind: AlertKind
    at: datetime
    hours_after_awareness: int


@dataclass(frozen=True)
class SusarDeadlines:
    """Calendar-day deadlines of a SUSAR: initial report, and completion (fatal/life-threatening only)."""

    initial_report_due: date
    completion_due: date | None


def load_safety_clock_config() -> SafetyClockConfig:
    """The clock configuration of seeds/protocol.yaml."""
    return SafetyClockConfig.from_config(protocol_seed().settings.safety)


def _require_aware(instant: datetime, name: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware instant, not a naive datetime.")


def sae_report_deadline(aware_at: datetime, *, config: SafetyClockConfig) -> datetime:
    """The instant by which the investigator must report the SAE to the sponsor."""
    _require_aware(aware_at, "aware_at")
    return aware_at + timedelta(hours=config.sae_report_hours)


def sae_report_status(
    *, aware_at: datetime, reported_at: datetime | None, now: datetime, config: SafetyClockConfig
) -> ReportStatus:
    """The SAE clock: a report at or before the deadline is on time; none by the deadline is overdue."""
    deadline = sae_report_deadline(aware_at, config=config)
    if reported_at is not None:
        _require_aware(reported_at, "reported_at")
        return ReportStatus.ON_TIME if reported_at <= deadline else ReportStatus.REPORTED_LATE
    _require_aware(now, "now")
    return ReportStatus.DUE if now < deadline else ReportStatus.OVERDUE


def sae_alerts(aware_at: datetime, *, config: SafetyClockConfig) -> tuple[SaeAlert, ...]:
    """Every alert of an SAE clock: reminders at the configured hours and the overdue alert at the deadline."""
    _require_aware(aware_at, "aware_at")
    reminders = tuple(
        SaeAlert(AlertKind.REMINDER, aware_at + timedelta(hours=hours), hours) for hours in config.sae_alert_hours
    )
    deadline = SaeAlert(AlertKind.OVERDUE, sae_report_deadline(aware_at, config=config), config.sae_report_hours)
    return (*reminders, deadline)


def sae_alerts_due(
    *, aware_at: datetime, reported_at: datetime | None, now: datetime, config: SafetyClockConfig
) -> tuple[SaeAlert, ...]:
    """The alerts whose instant has come by now, while no report is recorded (none once reported)."""
    _require_aware(now, "now")
    if reported_at is not None:
        return ()
    return tuple(alert for alert in sae_alerts(aware_at, config=config) if alert.at <= now)


def susar_deadlines(
    *, sponsor_aware_on: date, fatal_or_life_threatening: bool, config: SafetyClockConfig
) -> SusarDeadlines:
    """SUSAR deadlines in calendar days from the sponsor's first knowledge (day 0)."""
    if not fatal_or_life_threatening:
        return SusarDeadlines(sponsor_aware_on + timedelta(days=config.susar_other_days), None)
    initial = sponsor_aware_on + timedelta(days=config.susar_fatal_days)
    return SusarDeadlines(initial, initial + timedelta(days=config.susar_fatal_completion_extra_days))


def susar_report_status(due_on: date, *, reported_on: date | None, today: date) -> ReportStatus:
    """A SUSAR clock: reported by the due date is on time; unreported after it is overdue."""
    if reported_on is not None:
        return ReportStatus.ON_TIME if reported_on <= due_on else ReportStatus.REPORTED_LATE
    return ReportStatus.DUE if today <= due_on else ReportStatus.OVERDUE
