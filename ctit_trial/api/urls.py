"""/api/v1/: each app contributes its routes."""

from django.urls import include, path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ctit_trial.api.authentication import token_expires_at, token_issue
from ctit_trial.api.parsers import JSONParser
from ctit_trial.api.throttling import ScopedThrottle
from ctit_trial.security.attempts import LockedOut, lockout_message

TokenResponse = inline_serializer(
    "TokenResponse", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}
)


class TokenView(APIView):
    """Exchange a username and password for an API token (locked out after repeated failures)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedThrottle]
    parser_classes = [FormParser, MultiPartParser, JSONParser]  # the project's JSON parser (depth and text limits)
    throttle_scope = "auth"

    @extend_schema(
        summary="Exchange a username and password for an API token.",
        request=AuthTokenSerializer,
        responses={200: TokenResponse},
    )
    def post(self, request):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            if getattr(request, "axes_locked_out", False):  # set by django-axes on the failure that locks
                raise LockedOut(lockout_message())
            raise serializers.ValidationError(serializer.errors)
        token = token_issue(serializer.validated_data["user"])
        return Response({"token": token.key, "expires_at": token_expires_at(token)})


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include("enrollment.api.urls")),
    path("", include("dosing.api.urls")),
    path("", include("safety.api.urls")),
]
