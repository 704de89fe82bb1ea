"""Template filters of the casebook: a record's admin page and history, a dose as a clinician writes it."""

from django import template
from django.urls import NoReverseMatch, reverse

from dosing.doses import format_cells

register = template.Library()


def _admin_url(record, view: str) -> str:
    meta = record._meta
    try:
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=[record.pk])
    except NoReverseMatch:  # a model without an admin page (its rows show on their parent's page)
        return ""


@register.filter
def admin_page(record) -> str:
    """The record's admin page, or '' when its model has none."""
    return _admin_url(record, "change")


@register.filter
def history_page(record) -> str:
    """The record's audit trail in the admin, or '' when its model has no admin page."""
    return _admin_url(record, "history")


register.filter("cells", format_cells)


@register.filter
def study_day(day: int | None) -> str:
    """7 -> 'D7', -1 -> 'D−1' (as the protocol writes study days); '' before dosing."""
    if day is None:
        return ""
    return f"D−{-day}" if day < 0 else f"D{day}"
