from django.urls import path
from rest_framework.routers import SimpleRouter

from enrollment.api.screening_views import (
    EvaluationViewSet,
    ScreeningViewSet,
    SubjectScreeningsView,
    SubjectScreeningView,
)
from enrollment.api.views import EligibilityCheckView, MeView, SiteViewSet, SubjectViewSet

router = SimpleRouter()
router.register("sites", SiteViewSet, basename="site")
router.register("subjects", SubjectViewSet, basename="subject")
router.register("screenings", ScreeningViewSet, basename="screening")
router.register("eligibility-evaluations", EvaluationViewSet, basename="eligibility-evaluation")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("eligibility/check/", EligibilityCheckView.as_view(), name="eligibility-check"),
    path("subjects/<int:subject_pk>/screenings/", SubjectScreeningsView.as_view(), name="subject-screenings"),
    path("subjects/<int:subject_pk>/screenings/<int:pk>/", SubjectScreeningView.as_view(), name="subject-screening"),
    *router.urls,
]
