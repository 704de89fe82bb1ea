"""API tokens that expire (API_TOKEN_TTL) and are revoked with the password (ctit_trial.security.receivers)."""

from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, serializers
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

TOKEN_EXPIRED = "The token has expired: request a new one at /api/v1/auth/token/."  # noqa: S105 (a message)


def token_expires_at(token: Token) -> datetime:
    return token.created + settings.API_TOKEN_TTL


def token_issue(user) -> Token:
    """The user's token while it is valid, else a new one."""
    Token.objects.filter(user=user, created__lte=timezone.now() - settings.API_TOKEN_TTL).delete()
    try:
        with transaction.atomic():
            return Token.objects.get_or_create(user=user)[0]
    except IntegrityError:  # a concurrent login created it first
        return Token.objects.get(user=user)


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`; refused (401) once the token is older than API_TOKEN_TTL."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if timezone.now() >= token_expires_at(token):
            token.delete()
            raise exceptions.AuthenticationFailed(TOKEN_EXPIRED)
        return user, token


class OtpTokenField(serializers.CharField):
    """The signer's current one-time code, beside the password of an e-signature."""

    def __init__(self, **kwargs) -> None:
        help_text = (
            "The 6-digit code of your authenticator app: needed once you have enrolled one (always in production)."
        )
        kwargs = {"required": False, "allow_blank": True, "allow_null": True, "default": None, **kwargs}
        super().__init__(write_only=True, max_length=8, help_text=help_text, **kwargs)
