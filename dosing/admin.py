from django.contrib import admin, messages
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from ctit_trial.admin_base import ReadOnlyAdmin, ReadOnlyInline, ServiceAddAdmin, act_check, apply_to_each
from ctit_trial.errors import DomainError
from ctit_trial.site_time import format_local
from dosing import (
    admin_acts,
    admin_day,  # noqa: F401 (registers the dosing-day admin)
    selectors,
    services,
)
from dosing.charts import MARKERS, escalation_chart_png
from dosing.doses import format_cells
from dosing.models import DoseLevel, DoseSlot, SrcDecision, SrcSignature
from dosing.rules.live import outcome_letter
from dosing.services.src import valid_signatures
from enrollment.roles import Act
from enrollment.selectors import protocol_current


@admin.register(DoseLevel)
class DoseLevelAdmin(ReadOnlyAdmin):
    list_display = ["label", "level", "dose", "design_role", "status", "protocol"]
    list_filter = ["status", "protocol"]
    actions = ["open_first_level"]
    change_list_template = "admin/dosing/doselevel_change_list.html"
    has_open_first_level_permission = act_check(Act.OPEN_FIRST_LEVEL)

    @admin.action(
        description="Open level 1 (trial start; later levels need a signed SRC decision)",
        permissions=["open_first_level"],
    )
    def open_first_level(self, request, queryset):
        return self.reason_then(
            request, queryset, title="Open level 1: the start of dose escalation", run=self._open_first_level(request)
        )

    def _open_first_level(self, request):
        def run(reason: str) -> None:
            try:
                level = services.dose_level_open_first(actor=request.user, reason=reason)
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
            else:
                self.message_user(request, f"{level.label} is open for enrollment.", messages.SUCCESS)

        return run

    @admin.display(description="Dose (viable cells)", ordering="viable_cells")
    def dose(self, level):
        return format_cells(level.viable_cells)

    def get_urls(self):
        return [
            path("status/", self.act_view(self.status_view, Act.READ), name="dosing_trial_status"),
            path("status/chart.png", self.act_view(self.chart_view, Act.READ), name="dosing_trial_status_chart"),
            *super().get_urls(),
        ]

    def status_view(self, request):
        protocol, now = protocol_current(), timezone.now()
        levels = _level_rows(request.user, protocol, now=now)
        context = {
            **self.admin_site.each_context(request),
            "title": "Trial status",
            "now": now,
            "status": selectors.escalation_status(protocol, now=now, viewer=request.user),
            "levels": levels,
            "open_row": next((row for row in levels if row["level"].status == DoseLevel.Status.OPEN), None),
            "src_decisions": SrcDecision.objects.filter(protocol=protocol).prefetch_related("signatures"),
            "outcomes": [(letter, legend) for letter, (_marker, _colour, legend) in MARKERS.items()],
        }
        return TemplateResponse(request, "admin/dosing/trial_status.html", context)

    def chart_view(self, request):
        protocol, now = protocol_current(), timezone.now()
        subjects = selectors.dosed_subjects(protocol, now=now)
        labels = selectors.study_numbers(viewer=request.user, subject_ids=[s.subject_id for s in subjects])
        levels = {
            level.level: f"{level.label} · {format_cells(level.viable_cells)}" for level in protocol.dose_levels.all()
        }
        png = escalation_chart_png(subjects, labels, levels=levels, today=timezone.localdate(now))
        return HttpResponse(png, content_type="image/png")


def _level_rows(user, protocol, *, now) -> list[dict]:
    """Each level with its dosed subjects' outcome letters and its claimed slots (other sites' unnamed)."""
    dosed = selectors.dosed_subjects(protocol, now=now)
    claimed = list(DoseSlot.objects.filter(dose_level__protocol=protocol, status=DoseSlot.Status.CLAIMED))
    numbers = selectors.study_numbers(
        viewer=user, subject_ids=[s.subject_id for s in dosed] + [slot.subject_id for slot in claimed]
    )
    return [
        {
            "level": level,
            "dose": format_cells(level.viable_cells),
            "dosed": [
                {"study_number": numbers.get(s.subject_id, selectors.OTHER_SITE), "letter": outcome_letter(s)}
                for s in dosed
                if s.level == level.level
            ],
            "claimed": [
                numbers.get(slot.subject_id, selectors.OTHER_SITE) for slot in claimed if slot.dose_level_id == level.pk
            ],
        }
        for level in protocol.dose_levels.order_by("level")
    ]


@admin.register(DoseSlot)
class DoseSlotAdmin(ReadOnlyAdmin):
    site_path = "subject__site"
    list_display = ["subject", "dose_level", "status", "claimed_at", "released_at"]
    list_filter = ["status", "dose_level"]
    search_fields = ["subject__study_number"]
    list_select_related = ["subject", "dose_level"]
    actions = ["move_to_open_level"]
    has_move_permission = act_check(Act.ENROLL)

    @admin.action(
        description="Move to the open level (a slot at a level the SRC closed, before dosing; give a reason)",
        permissions=["move"],
    )
    def move_to_open_level(self, request, queryset):
        def run(reason: str) -> None:
            apply_to_each(
                self,
                request,
                queryset,
                lambda slot: services.slot_move(actor=request.user, subject=slot.subject, reason=reason),
                lambda slot, moved: f"{slot.subject}: moved to {moved.dose_level.label}; schedule the infusion again",
            )

        return self.reason_then(request, queryset, title="Move the dose slot to the open level", run=run)


class SrcSignatureInline(ReadOnlyInline):
    model = SrcSignature
    fields = ["printed_name", "meaning", "signed_local", "valid", "content_digest"]

    @admin.display(description="Signed at")
    def signed_local(self, signature):
        return format_local(signature.signed_at)

    @admin.display(description="Valid (decision unchanged since signing)", boolean=True)
    def valid(self, signature):
        return signature in valid_signatures(signature.decision)


@admin.register(SrcDecision)
class SrcDecisionAdmin(ServiceAddAdmin):
    """SRC decisions: a member records one beside the engine's recommendation; each member present signs it."""

    add_form = admin_acts.SrcDecisionForm
    add_act = Act.RECORD_SRC_DECISION
    object_acts = admin_acts.SRC_ACTS
    list_display = ["meeting_date", "recommended_action", "decision", "dose_level", "status", "effective_local"]
    list_filter = ["status", "decision"]
    inlines = [SrcSignatureInline]

    @admin.display(description="Effective at", ordering="effective_at")
    def effective_local(self, record):
        return format_local(record.effective_at)
