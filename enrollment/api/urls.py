from django.urls import path
from rest_framework.routers import SimpleRouter

from enrollment.api.views import EligibilityCheckView, MeView, SiteViewSet, SubjectViewSet

router = SimpleRouter()
router.register("sites", SiteViewSet, basename="site")
router.register("subjects", SubjectViewSet, basename="subject")

urlpatterns = [
    path("me/", MeView.as_view(), name="me"),
    path("eligibility/check/", EligibilityCheckView.as_view(), name="eligibility-check"),
    *router.urls,
]
