from django.urls import path

from dosing.api.views import EscalationNextView

urlpatterns = [path("escalation/next/", EscalationNextView.as_view(), name="escalation-next")]
