"""Electronic signatures (21 CFR 11.50, 11.70): re-authenticate the signer, bind the signature to record and server.

A signature stores an HMAC-SHA256, under a key only the server holds, of the signed record's type and id, the
signer, the meaning, the signing time and the signed content. It is valid only while recomputing that MAC from
the record's current content gives the same value: a later change to the signed data, a signature copied to
another record, an edited meaning or a value computed without the server's key all fail (docs/adr/0010).
"""

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils.crypto import salted_hmac

from ctit_trial.errors import InvalidInput, PermissionDenied
from ctit_trial.security.attempts import failure_record, refuse_if_locked_out
from ctit_trial.security.second_factor import signer_second_factor_check
from ctit_trial.site_time import format_instant

WRONG_PASSWORD = "The password is not correct: the signature was not applied."  # noqa: S105 (a message)
MAC_PURPOSE = "ctit_trial.signatures.v1"  # salt: this key derivation serves signatures only


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


def canonical_json(content: Any) -> str:
    """The content as canonical JSON (sorted keys; dates, decimals as strings)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def content_digest(content: Any) -> str:
    """SHA-256 of the content's canonical JSON: detects change, proves nothing about who (not a signature)."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def printed_name(user: AbstractBaseUser) -> str:
    """The signer's name as shown beside the signature."""
    return user.get_full_name() or user.get_username()


def signature_keys() -> list[str]:
    """The signing key first, then earlier keys that still verify (SIGNATURE_KEY, else SECRET_KEY, and fallbacks)."""
    if settings.SIGNATURE_KEY:
        return [settings.SIGNATURE_KEY, *settings.SIGNATURE_KEY_FALLBACKS]
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def signed_payload(*, record: models.Model, signer_id: int, meaning: str, signed_at: datetime, content: Any) -> dict:
    """Everything a signature is bound to: which record, who, meaning what, when, and the signed content."""
    return {
        "record": [record._meta.label_lower, record.pk],
        "signer": signer_id,
        "meaning": meaning,
        "signed_at": signed_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "content": content,
    }


def signature_mac(payload: dict, *, key: str | None = None) -> str:
    """HMAC-SHA256 of the payload's canonical JSON under a key derived from the server key for this purpose."""
    secret = key if key is not None else signature_keys()[0]
    return salted_hmac(MAC_PURPOSE, canonical_json(payload), secret=secret, algorithm="sha256").hexdigest()


def _payload_of(signature: "SignatureFields", record: models.Model, content: Any) -> dict:
    return signed_payload(
        record=record,
        signer_id=signature.signer_id,
        meaning=signature.meaning,
        signed_at=signature.signed_at,
        content=content,
    )


def signature_seal(signature: "SignatureFields", *, record: models.Model, content: Any) -> None:
    """Store on the signature the MAC binding its signer, meaning and time to the record and its content."""
    signature.content_digest = signature_mac(_payload_of(signature, record, content))


def signature_is_valid(signature: "SignatureFields", *, record: models.Model, content: Any) -> bool:
    """Whether the stored MAC matches the record's current content under the signing key or a fallback key."""
    if not signature.content_digest or record.pk is None:
        return False
    payload = _payload_of(signature, record, content)
    return any(hmac.compare_digest(signature.content_digest, signature_mac(payload, key=k)) for k in signature_keys())


def signature_display(signature: "SignatureFields") -> str:
    """'Printed Name — meaning — 2026-03-02 08:15 UTC' (on an admin page: in its site-local zone, labelled)."""
    return f"{signature.printed_name} — {signature.meaning} — {format_instant(signature.signed_at)}"


class SignatureFields(models.Model):
    """Who signed, as what name, meaning what, when, and the MAC binding it to the record and its content."""

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=150)
    meaning = models.CharField(max_length=60)
    signed_at = models.DateTimeField()
    content_digest = models.CharField(
        max_length=64, help_text="HMAC-SHA256 (server key) of record, signer, meaning, time and signed content."
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return signature_display(self)
