"""XJ-MK-002 dose-escalation cohort service (NCT07110090)."""

from .celery import app as celery_app

__all__ = ("celery_app",)
