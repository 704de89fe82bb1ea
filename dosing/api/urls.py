from django.urls import path
from rest_framework.routers import SimpleRouter

from dosing.api import day_views
from dosing.api.views import EscalationNextView, EscalationSimulateView, EscalationStatusView, SrcDecisionViewSet

router = SimpleRouter()
router.register("src-decisions", SrcDecisionViewSet, basename="src-decision")

urlpatterns = [
    path("escalation/next/", EscalationNextView.as_view(), name="escalation-next"),
    path("escalation/status/", EscalationStatusView.as_view(), name="escalation-status"),
    path("escalation/simulate/", EscalationSimulateView.as_view(), name="escalation-simulate"),
    path("subjects/<int:subject_pk>/dosing/", day_views.SubjectDosingView.as_view(), name="subject-dosing"),
    path("subjects/<int:subject_pk>/dosing/schedule/", day_views.ScheduleView.as_view(), name="dosing-schedule"),
    path("subjects/<int:subject_pk>/dosing/reschedule/", day_views.RescheduleView.as_view(), name="dosing-reschedule"),
    path(
        "subjects/<int:subject_pk>/dosing/reconfirmation/",
        day_views.ReconfirmationView.as_view(),
        name="dosing-reconfirmation",
    ),
    path("subjects/<int:subject_pk>/dosing/assessment/", day_views.AssessmentView.as_view(), name="dosing-assessment"),
    path("subjects/<int:subject_pk>/dosing/checklist/", day_views.ChecklistView.as_view(), name="dosing-checklist"),
    path("subjects/<int:subject_pk>/dosing/infusion/", day_views.InfusionView.as_view(), name="dosing-infusion"),
    path("subjects/<int:subject_pk>/dosing/draws/", day_views.DrawView.as_view(), name="dosing-draws"),
    path(
        "subjects/<int:subject_pk>/dosing/screen-failure/",
        day_views.GateFailureView.as_view(),
        name="dosing-screen-failure",
    ),
    path("subjects/<int:subject_pk>/dosing/slot-move/", day_views.SlotMoveView.as_view(), name="dosing-slot-move"),
    *(
        path(
            f"subjects/<int:subject_pk>/dosing/corrections/{record}/",
            view.as_view(),
            name=f"dosing-correction-{record}",
        )
        for record, view in day_views.CorrectionViews.items()
    ),
    path("dosing/today/", day_views.TodayView.as_view(), name="dosing-today"),
    *router.urls,
]
