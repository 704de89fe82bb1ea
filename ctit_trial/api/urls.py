"""/api/v1/: each app contributes its routes."""

from django.urls import include, path
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.throttling import ScopedRateThrottle

from ctit_trial.api.parsers import JSONParser


@extend_schema_view(post=extend_schema(summary="Exchange a username and password for an API token."))
class TokenView(ObtainAuthToken):
    parser_classes = [FormParser, MultiPartParser, JSONParser]  # the project's JSON parser (depth and text limits)
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("", include("enrollment.api.urls")),
    path("", include("dosing.api.urls")),
    path("", include("safety.api.urls")),
]
