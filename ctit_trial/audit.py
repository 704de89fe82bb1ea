"""Audit helpers: every service write records who, when, what and why in django-simple-history."""

from django.db import models

from ctit_trial.errors import InvalidInput

REASON_REQUIRED = "A reason for change is required when editing existing data."


def require_reason(reason: str | None, *, field: str = "reason") -> str:
    """Return the stripped reason, or refuse the edit when it is blank."""
    cleaned = (reason or "").strip()
    if not cleaned:
        raise InvalidInput(REASON_REQUIRED, errors={field: [REASON_REQUIRED]})
    return cleaned


def save_audited(instance: models.Model, *, actor, reason: str) -> None:
    """Validate and save one history-tracked row, stamping the acting user and the reason."""
    instance._history_user = actor
    instance._change_reason = reason
    instance.full_clean()
    instance.save()


SYSTEM_USERNAME = "system"


def system_actor():
    """The user that commands and tasks act as in the audit trail (cannot log in)."""
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"first_name": "System", "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def upsert_audited(model: type[models.Model], *, lookup: dict, values: dict, actor, reason: str):
    """Create the row, or update only the fields that differ; returns (row, changed)."""
    row = model.objects.filter(**lookup).first()
    if row is None:
        row = model(**lookup, **values)
    else:
        values = {field: value for field, value in values.items() if getattr(row, field) != value}
        if not values:
            return row, False
        for field, value in values.items():
            setattr(row, field, value)
    save_audited(row, actor=actor, reason=reason)
    return row, True


def upsert_each(model: type[models.Model], rows, *, actor, reason: str) -> int:
    """upsert_audited for each (lookup, values) pair; returns how many rows were created or changed."""
    return sum(
        upsert_audited(model, lookup=lookup, values=values, actor=actor, reason=reason)[1] for lookup, values in rows
    )
