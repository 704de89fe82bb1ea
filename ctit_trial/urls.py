from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from ctit_trial.health import healthz, livez
from ctit_trial.observability.metrics import metrics_view

admin.site.site_header = "XJ-MK-002 trial administration"
admin.site.site_title = "XJ-MK-002 trial"
admin.site.index_title = "NCT07110090 dose-escalation cohort service"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("ctit_trial.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("metrics", metrics_view, name="metrics"),
]
