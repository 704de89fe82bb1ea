"""Electronic signatures (21 CFR Part 11 style): re-authenticate the signer, bind the signature to content.

A signature stores the SHA-256 digest of the signed content; it is valid only while the record's current content
has the same digest, so any later change to signed data invalidates it without anyone having to remember to.
"""

import hashlib
import json
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from ctit_trial.errors import InvalidInput, PermissionDenied
from ctit_trial.security.attempts import failure_record, refuse_if_locked_out
from ctit_trial.security.second_factor import signer_second_factor_check

WRONG_PASSWORD = "The password is not correct: the signature was not applied."  # noqa: S105 (a message)


def authenticate_signer(
    *, user: AbstractBaseUser, password: str | None, otp_token: str | None = None, field: str = "password"
) -> None:
    """Re-check the signer's password and one-time code (the act of signing), or refuse naming the field.

    Failures count towards the same lockout as failed logins (django-axes, docs/adr/0009).
    """
    if not user.is_active:
        raise PermissionDenied("Inactive users cannot sign.")
    refuse_if_locked_out(user.get_username())
    if not password or not user.check_password(password):
        failure_record(user.get_username())
        raise InvalidInput(WRONG_PASSWORD, errors={field: [WRONG_PASSWORD]})
    signer_second_factor_check(user, otp_token)


def content_digest(content: Any) -> str:
    """SHA-256 of the content's canonical JSON (sorted keys; dates, decimals as strings)."""
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def printed_name(user: AbstractBaseUser) -> str:
    """The signer's name as shown beside the signature."""
    return user.get_full_name() or user.get_username()


class SignatureFields(models.Model):
    """Who signed, as what name, meaning what, when, and the digest of what they signed."""

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=150)
    meaning = models.CharField(max_length=60)
    signed_at = models.DateTimeField()
    content_digest = models.CharField(max_length=64)

    class Meta:
        abstract = True
