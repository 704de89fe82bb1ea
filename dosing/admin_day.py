"""Admin of the dosing day: plans, D−1 reconfirmations, D0 assessments, infusions and draws, all recorded through
the dosing services, and the "Dosing today" page (who has D−1 today, who is dosed today, what is missing)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from ctit_trial import journey
from ctit_trial.admin_base import ReadOnlyInline, ServiceAddAdmin, ServiceAddForm, admin_formfield, deviation_text
from ctit_trial.site_time import format_local
from dosing import admin_acts, selectors, services
from dosing.doses import format_cells
from dosing.models import (
    DosingDayCorrection,
    Infusion,
    InfusionPlan,
    PostInfusionDraw,
    PreInfusionAssessment,
    Reconfirmation,
    VitalSigns,
)
from dosing.selectors.dosing_day import assessment_of, reconfirmation_of
from enrollment.models import Subject
from enrollment.roles import Act, may
from enrollment.selectors import protocol_current, sites_of_member, sites_visible_to


class SubjectServiceForm(ServiceAddForm):
    """A service add form naming the subject, chosen among the user's sites' enrolled subjects."""

    subject = forms.ModelChoiceField(queryset=Subject.objects.none())
    subject_statuses = (Subject.Status.ENROLLED,)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        subjects = Subject.objects.filter(site__in=sites_of_member(self.request.user))
        self.fields["subject"].queryset = subjects.filter(status__in=self.subject_statuses).select_related("site")

    def service_values(self, cleaned: dict) -> dict:
        """The record's own fields (the admin's form factory adds `subject` to Meta.fields: it is passed apart)."""
        return {name: cleaned[name] for name in self.Meta.fields if name != "subject"}


class PlanForm(SubjectServiceForm):
    class Meta:
        model = InfusionPlan
        fields = ["planned_at"]

    def run_service(self, actor, cleaned):
        return services.infusion_schedule(actor=actor, subject=cleaned["subject"], planned_at=cleaned["planned_at"])


@admin.register(InfusionPlan)
class InfusionPlanAdmin(ServiceAddAdmin):
    add_form = PlanForm
    object_acts = admin_acts.PLAN_ACTS
    site_path = "subject__site"
    add_act = Act.SCHEDULE_INFUSION
    list_display = ["subject", "planned_at", "d_minus_1", "status", "blocked_reason"]
    list_filter = ["status", "subject__site", "slot__dose_level"]
    search_fields = ["subject__study_number"]
    list_select_related = ["subject"]

    def get_urls(self):
        return [path("today/", self.act_view(self.today_view, Act.READ), name="dosing_today"), *super().get_urls()]

    def today_view(self, request):
        now = timezone.now()
        rows = selectors.dosing_today(sites_visible_to(request.user), now=now)
        doses = {
            level.level: f"{level.label} · {format_cells(level.viable_cells)}"
            for level in protocol_current().dose_levels.all()
        }
        for row in rows:
            row["dose"] = doses[row["dose_level"]]
            row["missing"] = list(dict.fromkeys(row["missing"]))  # one line per thing to do, not per checklist code
            row["planned_local"] = format_local(row["planned_at"], row["subject"].site.zone)
            row["links"] = _day_links(request.user, row)
        context = {**self.admin_site.each_context(request), "title": "Dosing today", "now": now, "rows": rows}
        return TemplateResponse(request, "admin/dosing/dosing_today.html", context)


ACT_PAGES = {  # an act of the dosing day: the label of its link, the add page where it is done
    Act.RECORD_RECONFIRMATION: ("Record the D−1 reconfirmation", "dosing_reconfirmation_add"),
    Act.RECORD_ASSESSMENT: ("Record the D0 assessment", "dosing_preinfusionassessment_add"),
    Act.RECORD_INFUSION: ("Record the infusion", "dosing_infusion_add"),
    Act.RECORD_DRAW: ("Record a post-infusion draw", "dosing_postinfusiondraw_add"),
}


def _day_links(user, row: dict) -> list[tuple[str, str]]:
    """Links to the pages where the user does the row's acts still to do (the subject chosen), then its page."""
    subject = row["subject"]
    acts = [act for act in _acts_to_do(row) if may(user, act)]
    links = [(ACT_PAGES[act][0], f"{reverse(f'admin:{ACT_PAGES[act][1]}')}?subject={subject.pk}") for act in acts]
    return [*links, ("Subject page", reverse("admin:enrollment_subject_change", args=[subject.pk]))]


def _acts_to_do(row: dict) -> list[Act]:
    """What is left to record today: D−1 the reconfirmation; D0 the assessment and the infusion, then the draws."""
    if row["plan_status"] == InfusionPlan.Status.INFUSED:
        return [Act.RECORD_DRAW] if row["missing"] else []
    plan = selectors.plan_live(row["subject"])
    if plan is None or plan.status != InfusionPlan.Status.SCHEDULED:
        return []
    if row["day"] == "D-1":
        return [] if reconfirmation_of(plan) else [Act.RECORD_RECONFIRMATION]
    return ([] if assessment_of(plan) else [Act.RECORD_ASSESSMENT]) + [Act.RECORD_INFUSION]


class ReconfirmationForm(SubjectServiceForm):
    class Meta:
        model = Reconfirmation
        fields = ["drawn_at", "platelets", "bleeding", "bleeding_details"]

    def run_service(self, actor, cleaned):
        values = self.service_values(cleaned)
        return services.reconfirmation_record(actor=actor, subject=cleaned["subject"], **values)


@admin.register(Reconfirmation)
class ReconfirmationAdmin(ServiceAddAdmin):
    add_form = ReconfirmationForm
    site_path = "plan__subject__site"
    add_act = Act.RECORD_RECONFIRMATION
    list_display = ["plan", "d_minus_1", "drawn_at", "platelets", "bleeding", "cleared", "recorded_by"]
    list_filter = ["cleared", "bleeding", "plan__subject__site"]
    search_fields = ["plan__subject__study_number"]


class AssessmentForm(SubjectServiceForm):
    class Meta:
        model = PreInfusionAssessment
        fields = [
            "baseline_platelets",
            "baseline_drawn_at",
            "transfusion_since_screening_at",
            "thrombopoietic_since_screening_on",
            "surgery_since_screening_on",
        ]

    def run_service(self, actor, cleaned):
        values = self.service_values(cleaned)
        return services.assessment_record(actor=actor, subject=cleaned["subject"], **values)


@admin.register(PreInfusionAssessment)
class PreInfusionAssessmentAdmin(ServiceAddAdmin):
    add_form = AssessmentForm
    site_path = "plan__subject__site"
    add_act = Act.RECORD_ASSESSMENT
    list_display = ["plan", "d0", "baseline_platelets", "baseline_drawn_at", "recorded_by"]
    search_fields = ["plan__subject__study_number"]


VITAL_FIELDS = [field.name for field in VitalSigns._meta.fields if field.name not in ("id", "infusion", "phase")]
PHASE_LABELS = {"before": "Before infusion", "after": "After infusion"}


def _vital_fields(phase: str) -> dict[str, forms.Field]:
    """One block of vital-sign fields, each labelled with its phase so the two blocks read apart."""
    fields = {}
    for name in VITAL_FIELDS:
        model_field = VitalSigns._meta.get_field(name)
        fields[f"{phase}_{name}"] = admin_formfield(
            model_field, label=f"{PHASE_LABELS[phase]} — {model_field.verbose_name}"
        )
    return fields


INFUSION_FIELDS = [
    "product_lot",
    "product_viable_cells",
    "viability_percent",
    "volume_ml",
    "started_at",
    "ended_at",
    "fraction_given_percent",
    "interrupted",
    "interruption_reason",
    "early_stop",
    "early_stop_reason",
    "dose_deviation_reason",
    "timing_deviation_reason",
]

InfusionFormBase = type(
    "InfusionFormBase", (SubjectServiceForm,), {**_vital_fields("before"), **_vital_fields("after")}
)


class InfusionForm(InfusionFormBase):
    class Meta:
        model = Infusion
        fields = INFUSION_FIELDS

    def run_service(self, actor, cleaned):
        values = {name: cleaned[name] for name in INFUSION_FIELDS}
        for phase in ("before", "after"):
            values[f"vitals_{phase}"] = {name: cleaned[f"{phase}_{name}"] for name in VITAL_FIELDS}
        return journey.infusion_record(actor=actor, subject=cleaned["subject"], **values)


class VitalSignsInline(ReadOnlyInline):
    model = VitalSigns
    fields = ["phase", *VITAL_FIELDS]


class DrawInline(ReadOnlyInline):
    model = PostInfusionDraw
    fields = ["minutes_after_end", "drawn_at", "platelets", "deviation_words"]

    @admin.display(description="Protocol deviation")
    def deviation_words(self, draw):
        return deviation_text(draw.deviation, draw.deviation_reason)


@admin.register(Infusion)
class InfusionAdmin(ServiceAddAdmin):
    add_form = InfusionForm
    site_path = "subject__site"
    add_act = Act.RECORD_INFUSION
    list_display = ["subject", "dose_level", "started_at", "ended_at", "cells_given", "early_stop"]
    list_filter = ["dose_level", "early_stop", "subject__site"]
    search_fields = ["subject__study_number", "product_lot"]
    list_select_related = ["subject", "dose_level"]
    cell_counts = {"product_viable_cells": "product_cells", "viable_cells_given": "cells_given"}

    def get_inlines(self, request, obj):
        return [VitalSignsInline, DrawInline] if obj is not None else []

    def get_fields(self, request, obj=None):
        """A recorded infusion's cell counts read as doses (3.0 × 10⁸ cells), as the protocol writes them."""
        fields = super().get_fields(request, obj)
        return fields if obj is None else [self.cell_counts.get(name, name) for name in fields]

    @admin.display(description="product viable cells")
    def product_cells(self, infusion):
        return format_cells(infusion.product_viable_cells)

    @admin.display(description="viable cells given", ordering="viable_cells_given")
    def cells_given(self, infusion):
        return format_cells(infusion.viable_cells_given)


class DrawForm(SubjectServiceForm):
    subject_statuses = (Subject.Status.DOSED,)

    class Meta:
        model = PostInfusionDraw
        fields = ["minutes_after_end", "drawn_at", "platelets"]

    def run_service(self, actor, cleaned):
        values = self.service_values(cleaned)
        return services.draw_record(actor=actor, subject=cleaned["subject"], **values)


@admin.register(PostInfusionDraw)
class PostInfusionDrawAdmin(ServiceAddAdmin):
    add_form = DrawForm
    site_path = "infusion__subject__site"
    add_act = Act.RECORD_DRAW
    list_display = ["infusion", "minutes_after_end", "drawn_at", "platelets", "deviation_words"]

    @admin.display(description="Protocol deviation", ordering="deviation")
    def deviation_words(self, draw):
        return deviation_text(draw.deviation, draw.deviation_reason)

    list_filter = ["deviation", "minutes_after_end"]
    search_fields = ["infusion__subject__study_number"]


# --- corrections of recorded dosing-day data: one form, each blank field keeps the recorded value

CORRECTABLE = {
    DosingDayCorrection.Record.RECONFIRMATION: ["drawn_at", "platelets", "bleeding", "bleeding_details"],
    DosingDayCorrection.Record.ASSESSMENT: [
        "baseline_platelets",
        "baseline_drawn_at",
        "transfusion_since_screening_at",
        "thrombopoietic_since_screening_on",
        "surgery_since_screening_on",
    ],
    DosingDayCorrection.Record.INFUSION: [
        "started_at",
        "ended_at",
        "vitals_before_measured_at",
        "vitals_after_measured_at",
    ],
    DosingDayCorrection.Record.VITAL_SIGNS: VITAL_FIELDS,
}
CLEARABLE = {"transfusion_since_screening_at", "thrombopoietic_since_screening_on", "surgery_since_screening_on"}
KEEP = "Blank: keep the recorded value."


def _correction_fields() -> dict[str, forms.Field]:
    model_fields = {
        **{name: Reconfirmation._meta.get_field(name) for name in CORRECTABLE["reconfirmation"]},
        **{name: PreInfusionAssessment._meta.get_field(name) for name in CORRECTABLE["assessment"]},
        **{name: VitalSigns._meta.get_field(name) for name in VITAL_FIELDS},
        "started_at": Infusion._meta.get_field("started_at"),
        "ended_at": Infusion._meta.get_field("ended_at"),
        "vitals_before_measured_at": VitalSigns._meta.get_field("measured_at"),
        "vitals_after_measured_at": VitalSigns._meta.get_field("measured_at"),
    }
    fields = {}
    for name, model_field in model_fields.items():
        field = admin_formfield(model_field, required=False)
        if name == "bleeding":
            field = forms.NullBooleanField(required=False)
        field.help_text = KEEP
        fields[name] = field
    fields["clear"] = forms.MultipleChoiceField(
        required=False,
        choices=[(name, name.replace("_", " ")) for name in sorted(CLEARABLE)],
        widget=forms.CheckboxSelectMultiple,
        help_text="D0 assessment: events since screening to set to 'none'.",
    )
    fields["phase"] = forms.ChoiceField(required=False, choices=[("", "—"), *VitalSigns.Phase.choices])
    fields["deviation_reason"] = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed when the corrected data breaks a rule the step had passed: recorded as a deviation.",
    )
    return fields


CorrectionFormBase = type("CorrectionFormBase", (SubjectServiceForm,), _correction_fields())


class DosingDayCorrectionForm(CorrectionFormBase):
    """Correct one recorded dosing-day record of the subject through its service, with a reason."""

    subject_statuses = (Subject.Status.ENROLLED, Subject.Status.DOSED)

    class Meta:
        model = DosingDayCorrection
        fields = ["record", "reason"]

    def run_service(self, actor, cleaned):
        subject, record = cleaned["subject"], cleaned["record"]
        current = self._recorded(subject, record, cleaned.get("phase") or "")
        values = {
            name: None if name in cleaned["clear"] else current[name] if cleaned.get(name) is None else cleaned[name]
            for name in CORRECTABLE[record]
        }
        common = {"actor": actor, "subject": subject, "reason": cleaned["reason"]}
        if record == DosingDayCorrection.Record.VITAL_SIGNS:
            return journey.vital_signs_correct(**common, phase=cleaned["phase"], **values)
        common["deviation_reason"] = cleaned.get("deviation_reason") or ""
        if record == DosingDayCorrection.Record.INFUSION:
            return journey.infusion_times_correct(**common, **values)
        if record == DosingDayCorrection.Record.ASSESSMENT:
            return services.assessment_correct(**common, **values)
        return services.reconfirmation_correct(**common, **values)

    def _recorded(self, subject, record: str, phase: str) -> dict:
        """The values on record (the ones a blank field keeps); a form error when there is nothing to correct."""
        if record == DosingDayCorrection.Record.VITAL_SIGNS:
            if not phase:
                raise ValidationError({"phase": "Say which vital signs: before or after the infusion."})
            row = VitalSigns.objects.filter(infusion__subject=subject, phase=phase).first()
        elif record == DosingDayCorrection.Record.INFUSION:
            row = Infusion.objects.filter(subject=subject).first()
        else:
            model = Reconfirmation if record == DosingDayCorrection.Record.RECONFIRMATION else PreInfusionAssessment
            row = model.objects.filter(plan__subject=subject).exclude(plan__status="cancelled").order_by("-pk").first()
        if row is None:
            raise ValidationError({"record": f"{subject} has no such record to correct."})
        if record == DosingDayCorrection.Record.INFUSION:
            vitals = {v.phase: v.measured_at for v in row.vital_signs.all()}
            return {
                "started_at": row.started_at,
                "ended_at": row.ended_at,
                "vitals_before_measured_at": vitals.get("before"),
                "vitals_after_measured_at": vitals.get("after"),
            }
        return {name: getattr(row, name) for name in CORRECTABLE[record]}


@admin.register(DosingDayCorrection)
class DosingDayCorrectionAdmin(ServiceAddAdmin):
    """Corrections of recorded dosing-day data: what changed, why, and the deviation when one was recorded."""

    add_form = DosingDayCorrectionForm
    add_act = Act.CORRECT_DOSING_DAY
    site_path = "subject__site"
    list_display = ["subject", "record", "corrected_at", "corrected_by", "reason", "deviation"]
    list_filter = ["record"]
    search_fields = ["subject__study_number"]
    list_select_related = ["subject", "corrected_by"]
