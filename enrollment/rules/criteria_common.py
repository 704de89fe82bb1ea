"""Shared pieces of the criteria: results and findings, calendar arithmetic and number formatting."""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction
from typing import Any, Literal

from enrollment.rules.config import EligibilityLimits
from enrollment.rules.document import UNANSWERED, LabValue, PregnancyTest, ScreeningDocument, Unanswered
from enrollment.rules.units import display_unit

Status = Literal["pass", "fail", "missing", "review"]


@dataclass(frozen=True)
class CriterionResult:
    """The verdict on one criterion and the reason a person reads."""

    status: Status
    reason: str


@dataclass(frozen=True)
class Finding:
    """One sub-check of a criterion; a missing finding names its fields (its text is an optional note)."""

    status: Status
    text: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    """What every criterion reads: the document, the limits and the site's time zone."""

    doc: ScreeningDocument
    limits: EligibilityLimits
    tz: tzinfo

    def infusion_day(self) -> date | None:
        """D0: the site-local calendar day of the planned infusion."""
        at = self.doc.planned_infusion_at
        return None if at is None else at.astimezone(self.tz).date()


def passed(text: str) -> Finding:
    return Finding("pass", text)


def failed(text: str) -> Finding:
    return Finding("fail", text)


def review(text: str) -> Finding:
    return Finding("review", text)


def missing(*fields: str, note: str = "") -> Finding:
    return Finding("missing", note, fields)


def check(ok: bool, text: str) -> Finding:
    """Pass or fail with the same sentence."""
    return passed(text) if ok else failed(text)


def verdict(*findings: Finding) -> CriterionResult:
    """Combine sub-checks: any fail fails, then any missing, then any review; otherwise pass."""
    for status in ("fail", "missing", "review"):
        chosen = [finding for finding in findings if finding.status == status]
        if chosen:
            break
    else:
        status, chosen = "pass", list(findings)
    texts = [finding.text for finding in chosen if finding.text]
    if status == "missing":
        names = dict.fromkeys(name for finding in chosen for name in finding.fields)
        texts.insert(0, f"Missing: {', '.join(names)}.")
    return CriterionResult(status, " ".join(texts))


def absent(root: Any, *paths: str) -> tuple[str, ...]:
    """The dotted paths (cut at the first absent part) whose value is None or UNANSWERED."""
    gaps = []
    for path in paths:
        node, walked = root, []
        for part in path.split("."):
            walked.append(part)
            node = getattr(node, part)
            if node is None or node is UNANSWERED:
                gaps.append(".".join(walked))
                break
    return tuple(dict.fromkeys(gaps))


def flag(path: str, value: bool | None, *, wanted: bool, yes: str, no: str) -> Finding:
    """A yes/no item: missing when unanswered, pass when it equals `wanted`."""
    if value is None:
        return missing(path)
    return check(value == wanted, yes if value else no)


def lab_parts(doc: ScreeningDocument, name: str, *, need_uln: bool) -> tuple[LabValue | None, Finding | None]:
    """The lab if its value, unit (and ULN when needed) are present; else a missing finding."""
    needed = ("value", "unit", "uln") if need_uln else ("value", "unit")
    gaps = absent(doc, *(f"labs.{name}.{part}" for part in needed))
    return (None, missing(*gaps)) if gaps else (getattr(doc.labs, name), None)


@dataclass(frozen=True)
class Window:
    """The calendar days of a rule 'within <span> before <reference>': from `start` on."""

    reference: date
    reference_label: str
    span: str
    start: date


def days_window(reference: date | None, days: int, label: str) -> Window | None:
    """The window of the `days` calendar days before `reference` (None when the reference is unknown)."""
    if reference is None:
        return None
    return Window(reference, label, plural(days, "day"), reference - timedelta(days=days))


def months_window(reference: date | None, months: int, label: str) -> Window | None:
    """The window of the calendar `months` before `reference` (None when the reference is unknown)."""
    if reference is None:
        return None
    return Window(reference, label, plural(months, "month"), add_months(reference, -months))


def recent_event(
    path: str, label: str, event: date | None | Unanswered, window: Window | None, reference_path: str
) -> Finding:
    """An exclusion event: fails on or after the window start (later events too), passes before it."""
    if event is None:
        return passed(f"No {label} on record.")
    gaps = ((reference_path,) if window is None else ()) + ((path,) if event is UNANSWERED else ())
    if gaps:
        return missing(*gaps)
    subject, where = f"{label[0].upper()}{label[1:]} on {event}", f"the {window.reference_label} {window.reference}"
    if event > window.reference:
        return failed(f"{subject} is after {where}.")
    if event >= window.start:
        return failed(f"{subject} is within {window.span} before {where} (on or after {window.start}).")
    return passed(f"{subject} is more than {window.span} before {where} (before {window.start}).")


def positive_pregnancy_test(test: PregnancyTest) -> str:
    return f"Pregnancy test on {test.date} is positive." if test.date else "Pregnancy test is positive."


def add_months(day: date, months: int) -> date:
    """Calendar-month arithmetic; a day past the target month's end becomes its last day."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month_index + 1)[1]
    return date(year, month_index + 1, min(day.day, last_day))


def completed_years(born: date, on: date) -> int:
    """Age in completed years; someone born on 29 February turns a year older on 1 March."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def fmt(number: Decimal | Fraction | int) -> str:
    """A number as plain decimal text without trailing zeros (exact for terminating fractions)."""
    if isinstance(number, Fraction):
        number = Decimal(number.numerator) / Decimal(number.denominator)
    text = format(Decimal(number).normalize(), "f")
    return "0" if text == "-0" else text


def fmt_2dp(number: Fraction) -> str:
    """Two decimals, truncated, so a displayed value never crosses the limit it is compared with."""
    exact = Decimal(number.numerator) / Decimal(number.denominator)
    return str(exact.quantize(Decimal("0.01"), rounding=ROUND_DOWN))


def quantity(number: Decimal | Fraction, unit: str) -> str:
    """A value with its display unit ('72 ×10⁹/L'; a unitless ratio prints bare)."""
    shown = "" if unit == "ratio" else display_unit(unit)
    return f"{fmt(number)} {shown}" if shown else fmt(number)


def fmt_instant(instant: datetime, tz: tzinfo) -> str:
    """An instant in site-local time with its offset, e.g. 2026-03-10T09:00+08:00."""
    local = instant.astimezone(tz)
    spec = "minutes" if local.second == 0 and local.microsecond == 0 else "seconds"
    return local.isoformat(timespec=spec)


def fmt_duration(delta: timedelta) -> str:
    """A non-negative duration as hours and minutes (seconds only when present), e.g. 71h59m."""
    total = int(delta.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" + (f"{seconds:02d}s" if seconds else "")
