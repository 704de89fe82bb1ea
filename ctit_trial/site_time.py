"""Site-local wall-clock time in the admin: which zone a page reads and shows times in, and how it is labelled.

Instants are stored in UTC. An admin page about one record works in the zone of that record's site; any other
admin page works in the zone of the user's own sites (UTC when they span several zones), and says which.
"""

from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

UTC_ZONE = ZoneInfo("UTC")


@contextmanager
def working_zone(zone: ZoneInfo):
    """Forms read, and pages show, date-times in `zone` while the block runs."""
    with timezone.override(zone):
        yield


def zone_label(zone: ZoneInfo | None = None, *, at: datetime | None = None) -> str:
    """'Asia/Shanghai, UTC+08:00': the zone a time is read in, with its offset at that moment."""
    zone = zone or timezone.get_current_timezone()
    offset = (at or timezone.now()).astimezone(zone).strftime("%z")
    return f"{zone.key}, UTC{offset[:3]}:{offset[3:]}"


def format_local(instant: datetime | None, zone: ZoneInfo | None = None) -> str:
    """'2026-06-08 09:00 (Asia/Shanghai, UTC+08:00)'; '—' for no instant."""
    if instant is None:
        return "—"
    zone = zone or timezone.get_current_timezone()
    return f"{instant.astimezone(zone):%Y-%m-%d %H:%M} ({zone_label(zone, at=instant)})"


def format_instant(instant: datetime) -> str:
    """An instant in the zone the page is read in: '2026-03-02 08:15 UTC' outside the admin, '2026-03-02 16:15
    (Asia/Shanghai, UTC+08:00)' on a Beijing record's page (a record's name reads like the page around it)."""
    zone = timezone.get_current_timezone()
    if zone.key == "UTC":
        return f"{instant.astimezone(UTC_ZONE):%Y-%m-%d %H:%M} UTC"
    return format_local(instant, zone)
