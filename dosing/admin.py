from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from ctit_trial.admin_base import ReadOnlyAdmin, ReadOnlyInline
from ctit_trial.errors import DomainError
from dosing import (
    admin_day,  # noqa: F401 (registers the dosing-day admin)
    selectors,
    services,
)
from dosing.charts import escalation_chart_png
from dosing.models import DoseLevel, DoseSlot, SrcDecision, SrcSignature
from dosing.rules.live import outcome_letter
from enrollment.models import Subject
from enrollment.selectors import protocol_current


@admin.register(DoseLevel)
class DoseLevelAdmin(ReadOnlyAdmin):
    list_display = ["label", "level", "viable_cells", "design_role", "status", "protocol"]
    list_filter = ["status", "protocol"]
    actions = ["open_first_level"]
    change_list_template = "admin/dosing/doselevel_change_list.html"

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.has_perm("dosing.change_doselevel")  # actions only, never the form

    @admin.action(description="Open level 1 (trial start; later levels need a signed SRC decision)")
    def open_first_level(self, request, queryset):
        try:
            level = services.dose_level_open_first(actor=request.user, reason="Trial start: level 1 opened in admin")
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(request, f"{level.label} is open for enrollment.", messages.SUCCESS)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("status/", view(self.status_view), name="dosing_trial_status"),
            path("status/chart.png", view(self.chart_view), name="dosing_trial_status_chart"),
            *super().get_urls(),
        ]

    def status_view(self, request):
        self._require_view(request)
        protocol, now = protocol_current(), timezone.now()
        context = {
            **self.admin_site.each_context(request),
            "title": "Trial status",
            "status": selectors.escalation_status(protocol, now=now),
            "levels": _level_rows(protocol, now=now),
            "src_decisions": SrcDecision.objects.filter(protocol=protocol).prefetch_related("signatures"),
        }
        return TemplateResponse(request, "admin/dosing/trial_status.html", context)

    def chart_view(self, request):
        self._require_view(request)
        protocol, now = protocol_current(), timezone.now()
        subjects = selectors.dosed_subjects(protocol, now=now)
        labels = dict(Subject.objects.filter(pk__in=[s.subject_id for s in subjects]).values_list("pk", "study_number"))
        png = escalation_chart_png(subjects, labels, n_levels=protocol.dose_levels.count(), today=now.date())
        return HttpResponse(png, content_type="image/png")

    def _require_view(self, request):
        if not request.user.has_perm("dosing.view_doselevel"):
            raise PermissionDenied


def _level_rows(protocol, *, now) -> list[dict]:
    """Each level with its dosed subjects' outcome letters and its claimed slots."""
    dosed = selectors.dosed_subjects(protocol, now=now)
    numbers = dict(Subject.objects.filter(dose_slots__dose_level__protocol=protocol).values_list("pk", "study_number"))
    claimed = DoseSlot.objects.filter(dose_level__protocol=protocol, status=DoseSlot.Status.CLAIMED).select_related(
        "subject"
    )
    return [
        {
            "level": level,
            "dosed": [
                {"study_number": numbers.get(s.subject_id, "?"), "letter": outcome_letter(s)}
                for s in dosed
                if s.level == level.level
            ],
            "claimed": [slot.subject.study_number for slot in claimed if slot.dose_level_id == level.pk],
        }
        for level in protocol.dose_levels.order_by("level")
    ]


@admin.register(DoseSlot)
class DoseSlotAdmin(ReadOnlyAdmin):
    list_display = ["subject", "dose_level", "status", "claimed_at", "released_at"]
    list_filter = ["status", "dose_level"]
    search_fields = ["subject__study_number"]
    list_select_related = ["subject", "dose_level"]


class SrcSignatureInline(ReadOnlyInline):
    model = SrcSignature
    fields = ["printed_name", "meaning", "signed_at", "content_digest"]


@admin.register(SrcDecision)
class SrcDecisionAdmin(ReadOnlyAdmin):
    list_display = ["meeting_date", "recommended_action", "decision", "dose_level", "status", "effective_at"]
    list_filter = ["status", "decision"]
    inlines = [SrcSignatureInline]
