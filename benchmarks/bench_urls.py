"""The project's URLs plus /bench/bare/: a DRF view with the API's authentication that reads nothing else."""

from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ctit_trial.urls import urlpatterns as project_urlpatterns


class BareView(APIView):
    """The floor: authentication (one query for the token) and a constant answer."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [path("bench/bare/", BareView.as_view()), *project_urlpatterns]
