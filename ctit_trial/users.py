"""Staff accounts: never deleted (history names them), deactivated with a reason instead."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from ctit_trial.audit import require_reason, save_audited
from ctit_trial.errors import Conflict


@transaction.atomic
def user_deactivate(*, actor: AbstractBaseUser, user: AbstractBaseUser, reason: str | None) -> AbstractBaseUser:
    """Stop a user from logging in or signing; the account and everything it did stay in the audit trail."""
    reason = require_reason(reason)
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    if user.pk == actor.pk:
        raise Conflict("You cannot deactivate your own account.")
    if not user.is_active:
        raise Conflict(f"{user.get_username()} is already inactive.")
    user.is_active = False
    save_audited(user, actor=actor, reason=f"Account deactivated: {reason}")
    return user
