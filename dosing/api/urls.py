from django.urls import path
from rest_framework.routers import SimpleRouter

from dosing.api.views import EscalationNextView, EscalationSimulateView, EscalationStatusView, SrcDecisionViewSet

router = SimpleRouter()
router.register("src-decisions", SrcDecisionViewSet, basename="src-decision")

urlpatterns = [
    path("escalation/next/", EscalationNextView.as_view(), name="escalation-next"),
    path("escalation/status/", EscalationStatusView.as_view(), name="escalation-status"),
    path("escalation/simulate/", EscalationSimulateView.as_view(), name="escalation-simulate"),
    *router.urls,
]
