"""Template tags for site-local times in the admin: the page's zone, and an instant in it with the zone."""

from django import template

from ctit_trial import site_time

register = template.Library()


@register.simple_tag
def page_zone() -> str:
    """The zone this page reads and shows times in ('Asia/Shanghai, UTC+08:00')."""
    return site_time.zone_label()


@register.filter
def local_time(instant) -> str:
    """An instant in the page's zone, labelled: '2026-06-08 09:00 (Asia/Shanghai, UTC+08:00)'."""
    return site_time.format_local(instant)
