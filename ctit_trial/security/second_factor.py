"""The TOTP second factor (django-otp): who needs it, and checking a one-time code."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from ctit_trial.errors import InvalidInput
from ctit_trial.security.attempts import failure_record

OTP_FIELD = "otp_token"
NO_DEVICE = "Two-factor authentication is required: enrol an authenticator app at /admin/two-factor/ first."
CODE_MISSING = "Give the one-time code from your authenticator app: the signature was not applied."
CODE_WRONG = "The one-time code is not correct: the signature was not applied."


def totp_device_of(user: AbstractBaseUser) -> TOTPDevice | None:
    """The user's confirmed authenticator app, if they have enrolled one."""
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()


def second_factor_required(user: AbstractBaseUser) -> bool:
    """Required for everyone when CTIT_REQUIRE_2FA is on, and always for a user who has enrolled a device."""
    return settings.CTIT_REQUIRE_2FA or totp_device_of(user) is not None


def totp_verify(device: TOTPDevice, token: str | None) -> bool:
    """Whether the code is the device's current one (each code is accepted once; failures slow it down)."""
    if not token:
        return False
    with transaction.atomic():
        return TOTPDevice.objects.select_for_update().get(pk=device.pk).verify_token(token.strip())


def signer_second_factor_check(user: AbstractBaseUser, token: str | None) -> None:
    """Refuse a signature, naming `otp_token`, without the signer's current one-time code (when required)."""
    if not second_factor_required(user):
        return
    device = totp_device_of(user)
    if device is None:
        raise InvalidInput.for_field(OTP_FIELD, NO_DEVICE)
    if not totp_verify(device, token):
        failure_record(user.get_username())
        raise InvalidInput.for_field(OTP_FIELD, CODE_WRONG if token else CODE_MISSING)
