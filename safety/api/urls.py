from django.urls import path
from rest_framework.routers import SimpleRouter

from safety.api.views import (
    AdverseEventViewSet,
    PlateletSummaryView,
    SubjectCloseOutView,
    SubjectLabResultsView,
    SubjectPlateletsView,
    SubjectTemperaturesView,
    SubjectVisitsView,
    VisitViewSet,
)

router = SimpleRouter()
router.register("visits", VisitViewSet, basename="visit")
router.register("adverse-events", AdverseEventViewSet, basename="adverse-event")

urlpatterns = [
    path("subjects/<int:subject_pk>/visits/", SubjectVisitsView.as_view(), name="subject-visits"),
    path("subjects/<int:subject_pk>/lab-results/", SubjectLabResultsView.as_view(), name="subject-lab-results"),
    path("subjects/<int:subject_pk>/temperatures/", SubjectTemperaturesView.as_view(), name="subject-temperatures"),
    path("subjects/<int:subject_pk>/platelets/", SubjectPlateletsView.as_view(), name="subject-platelets"),
    path("subjects/<int:subject_pk>/close-out/", SubjectCloseOutView.as_view(), name="subject-close-out"),
    path("platelets/summary/", PlateletSummaryView.as_view(), name="platelet-summary"),
    *router.urls,
]
