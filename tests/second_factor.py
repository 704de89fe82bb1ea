"""Test helpers for the TOTP second factor: enrol a device, read its current code."""

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def enrol_totp(user) -> TOTPDevice:
    """A confirmed authenticator app for the user."""
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """The code the app shows now (time-machine moves it)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    """A well-formed code that is not the current one."""
    return f"{(int(current_code(device)) + 1) % 10**device.digits:0{device.digits}d}"
