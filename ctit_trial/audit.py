"""Audit helpers: every service write records who, when, what and why in django-simple-history."""

from django.conf import settings
from django.db import IntegrityError, models, transaction
from simple_history.models import HistoricalRecords

from ctit_trial.errors import InvalidInput


class AuditedHistory(HistoricalRecords):
    """simple-history whose rows keep their user: a user named in history cannot be deleted, only deactivated."""

    def _get_history_user_fields(self):
        # The library's history_user is on_delete=SET_NULL: deleting a user would blank who made each change.
        user_model = self.user_model or settings.AUTH_USER_MODEL
        return {
            "history_user": models.ForeignKey(
                user_model, null=True, related_name=self.user_related_name, on_delete=models.PROTECT
            )
        }

    def post_save(self, instance, created, using=None, **kwargs):
        """No history row for a save of excluded fields only (a user's last_login on each login)."""
        update_fields = kwargs.get("update_fields")
        if update_fields and set(update_fields) <= set(self.excluded_fields):
            return
        super().post_save(instance, created, using=using, **kwargs)


REASON_REQUIRED = "A reason for change is required when editing existing data."


def require_reason(reason: str | None, *, field: str = "reason") -> str:
    """Return the stripped reason, or refuse the edit when it is blank or not text."""
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput.for_field(field, "The reason must be text.")
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

    user_model = get_user_model()
    user = user_model.objects.filter(username=SYSTEM_USERNAME).first()
    if user is not None:
        return user
    user = user_model(username=SYSTEM_USERNAME, first_name="System", is_active=False)
    user.set_unusable_password()
    user._change_reason = "System user created for commands and scheduled tasks"
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:  # created meanwhile by a concurrent task
        return user_model.objects.get(username=SYSTEM_USERNAME)
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
