"""The admin site: password plus one-time code at login, and self-enrolment of an authenticator app."""

import base64
import logging

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from ctit_trial.api.throttling import login_throttled
from ctit_trial.security.second_factor import second_factor_required, totp_device_of, totp_verify

logger = logging.getLogger(__name__)
ADMIN_CODE_MISSING = "Enter the one-time code from your authenticator app."
ADMIN_CODE_WRONG = "The one-time code is not correct (or was already used): enter the current code."
TOO_MANY_LOGINS = "Too many login attempts from your address: wait a minute and try again."
ENROL_CODE_WRONG = "That code does not match: check the time on your phone and enter the current code."


class OtpCodeField(forms.CharField):
    def __init__(self, **kwargs) -> None:
        attrs = {"autocomplete": "one-time-code", "inputmode": "numeric", "autocapitalize": "none"}
        super().__init__(max_length=8, widget=forms.TextInput(attrs=attrs), **kwargs)


class AdminLoginForm(AdminAuthenticationForm):
    """Username and password (locked out by django-axes), then the one-time code of an enrolled device."""

    otp_token = OtpCodeField(label="One-time code", required=False, help_text="From your authenticator app.")

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        device = totp_device_of(user)
        if device is None:
            return cleaned  # TrialAdminSite sends the user to enrolment when a second factor is required
        token = cleaned.get("otp_token")
        if not totp_verify(device, token):
            credentials = {"username": user.get_username()}
            user_login_failed.send(sender=__name__, credentials=credentials, request=self.request)
            raise ValidationError({"otp_token": ADMIN_CODE_WRONG if token else ADMIN_CODE_MISSING})
        user.otp_device = device  # django_otp records the verified device in the session at login
        return cleaned


class EnrolForm(forms.Form):
    otp_token = OtpCodeField(label="Code shown by the app")


def needs_second_factor(user) -> bool:
    """A logged-in user who must still pass (or enrol) a second factor."""
    return second_factor_required(user) and not user.is_verified()


class TrialAdminSite(admin.AdminSite):
    login_form = AdminLoginForm
    login_template = "security/admin_login.html"

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and not needs_second_factor(request.user)

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        if request.method == "GET" and self._must_enrol(request.user):
            return redirect("admin:two-factor")
        if request.method == "POST" and login_throttled(request):
            context = {**self.each_context(request), "message": TOO_MANY_LOGINS}
            return render(request, "security/locked_out.html", context, status=429)
        return super().login(request, extra_context)

    @staticmethod
    def _must_enrol(user) -> bool:
        return user.is_active and user.is_staff and needs_second_factor(user) and totp_device_of(user) is None

    def get_urls(self):
        return [path("two-factor/", never_cache(self.enrol_view), name="two-factor"), *super().get_urls()]

    def enrol_view(self, request):
        """Enrol an authenticator app: scan the QR code, confirm with the code it shows."""
        user = request.user
        if not (user.is_active and user.is_staff):
            return redirect(f"{reverse('admin:login')}?next={request.path}")
        if totp_device_of(user) is not None:
            if not user.is_verified():
                return redirect(f"{reverse('admin:login')}?next={request.path}")
            return self._enrol_page(request, device=None, form=None)
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        device = device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        form = EnrolForm(request.POST or None)
        if form.is_valid():
            if totp_verify(device, form.cleaned_data["otp_token"]):
                return self._confirm(request, device)
            form.add_error("otp_token", ENROL_CODE_WRONG)
        return self._enrol_page(request, device=device, form=form)

    def _confirm(self, request, device: TOTPDevice):
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        logger.info("%s enrolled TOTP device %s (created %s)", request.user, device.pk, device.created_at)
        otp_login(request, device)
        messages.success(request, "Your authenticator app is enrolled: log in with its code from now on.")
        return redirect("admin:index")

    def _enrol_page(self, request, *, device: TOTPDevice | None, form: EnrolForm | None):
        context = {**self.each_context(request), "title": "Two-factor authentication", "form": form}
        if device is not None:
            context["qr_code"] = qr_code_data_uri(device.config_url)
            context["secret"] = base64.b32encode(device.bin_key).decode()
        return TemplateResponse(request, "security/two_factor.html", context)


def qr_code_data_uri(data: str) -> str:
    """An SVG QR code of the data, as a data: URI for an <img>."""
    svg = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
