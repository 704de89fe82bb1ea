"""What every safety read needs: the protocol's safety configuration, D0 and study days in site-local time."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

from django.core.exceptions import ObjectDoesNotExist

from dosing.models import Infusion
from enrollment.models import Protocol, Site, Subject
from enrollment.selectors import protocol_current
from safety.rules import windows
from safety.rules.catalogue import CtcaeCatalogue, load_catalogue
from safety.rules.dlt import DltRules, load_dlt_rules
from safety.rules.endpoints import EndpointConfig
from safety.rules.sae import SafetyClockConfig


@dataclass(frozen=True)
class SafetyConfig:
    """The protocol values the safety reads and writes use (from the seeded protocol configuration)."""

    dlt_window_days: int
    clocks: SafetyClockConfig
    endpoints: EndpointConfig


def safety_config(protocol: Protocol | None = None) -> SafetyConfig:
    """The safety configuration of the protocol record (one query when no protocol is given)."""
    config = (protocol or protocol_current()).config
    return SafetyConfig(
        dlt_window_days=config.scheduling.dlt_window_days,
        clocks=SafetyClockConfig.from_config(config.safety),
        endpoints=EndpointConfig(config.safety.platelet_equivalent_factor),
    )


@cache
def catalogue() -> CtcaeCatalogue:
    """The typed CTCAE catalogue of seeds/ctcae_v5.yaml (the seed the CtcaeTerm rows are loaded from)."""
    return load_catalogue()


@cache
def dlt_rules() -> DltRules:
    """The typed DLT candidate rules of seeds/dlt_rules.yaml."""
    return load_dlt_rules()


def site_zone(site: Site) -> ZoneInfo:
    """The site's IANA time zone."""
    return site.zone


def site_today(site: Site, *, now: datetime) -> date:
    """The site-local calendar day of an instant."""
    return windows.site_local_date(now, site_zone(site))


def infusion_of(subject: Subject) -> Infusion | None:
    """The subject's infusion, or None before dosing (uses a select_related row when present)."""
    try:
        return subject.infusion
    except ObjectDoesNotExist:
        return None


def subject_d0(subject: Subject) -> date | None:
    """D0: the site-local day of the subject's infusion; None before dosing."""
    infusion = infusion_of(subject)
    if infusion is None:
        return None
    return windows.d0_date(infusion.started_at, site_zone(subject.site))


def study_day_of(subject: Subject, day: date) -> int | None:
    """The study day of a site-local date (D0 = 0); None before dosing."""
    d0 = subject_d0(subject)
    return None if d0 is None else windows.study_day_of_date(day, d0=d0)


def number_text(value: Decimal | int | None) -> str | None:
    """A number as canonical text for signed content (72, 72.0 and 72.00 sign alike)."""
    if value is None:
        return None
    return format(Decimal(value).normalize(), "f")


def instant_text(value: datetime | None) -> str | None:
    """An instant as canonical UTC text for signed content (the same instant signs alike in any offset)."""
    return None if value is None else value.astimezone(UTC).isoformat()
