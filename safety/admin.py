"""Safety admin: visits and adverse events recorded through the API's services; the signed acts (DLT adjudication,
the SAE report to the sponsor) and close-out are buttons on the record's page (safety.admin_acts)."""

from django import forms
from django.contrib import admin
from django.utils import timezone

from ctit_trial.admin_base import (
    ActForm,
    ActSpec,
    AuditedAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceAddAdmin,
    ServiceAddForm,
    ServiceChangeForm,
    deviation_text,
)
from ctit_trial.signatures import signature_display
from ctit_trial.site_time import format_local
from enrollment.models import Subject
from enrollment.roles import Act
from enrollment.selectors import sites_of_member, subjects_visible_to
from safety import (
    admin_acts,
    admin_notifications,  # noqa: F401 (registers the delivery log)
    selectors,
    services,
)
from safety.api.serializers import LAB_UNITS
from safety.models import (
    AdverseEvent,
    CtcaeTerm,
    DltAdjudication,
    DltAssessment,
    LabResult,
    SaeReport,
    TemperatureRecord,
    Visit,
    VisitDefinition,
)
from safety.rules.units import TERM_ANALYTES
from safety.selectors.adverse_events import AE_RELATED


@admin.register(VisitDefinition)
class VisitDefinitionAdmin(ReadOnlyAdmin):
    list_display = ["code", "label", "target_day", "window_before", "window_after", "protocol"]
    list_filter = ["protocol"]


@admin.register(CtcaeTerm)
class CtcaeTermAdmin(ReadOnlyAdmin):
    list_display = ["term", "meddra_code", "soc", "category", "ctcae_version"]
    list_filter = ["category", "ctcae_version", "soc"]
    search_fields = ["term", "meddra_code", "code"]


class VisitRecordForm(ServiceChangeForm):
    """Record a visit (no reason needed the first time); correcting a recorded or missed visit needs one."""

    class Meta:
        model = Visit
        fields = ["visit_date", "platelets", "ae_review_done"]

    def reason_required(self) -> bool:
        return self.instance.status != Visit.Status.PLANNED and self.has_changed()

    def clean_visit_date(self):
        if self.cleaned_data.get("visit_date") is None:
            raise forms.ValidationError("Give the date of the visit.")
        return self.cleaned_data["visit_date"]

    def run_service(self, actor, cleaned):
        values = {field: cleaned[field] for field in ("visit_date", "platelets", "ae_review_done")}
        return services.visit_record(actor=actor, visit=self.instance, reason=self.reason or None, **values)


class VisitMissedForm(ActForm):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), help_text="Why the visit did not take place.")

    def run_service(self, actor, cleaned):
        return services.visit_mark_missed(actor=actor, visit=self.target, reason=cleaned["reason"])


@admin.register(Visit)
class VisitAdmin(AuditedAdmin):
    form = VisitRecordForm
    object_acts = {
        "missed": ActSpec(
            label="Mark missed",
            act=Act.MARK_VISIT_MISSED,
            form=VisitMissedForm,
            available=lambda visit: (
                visit.status == Visit.Status.PLANNED
                and selectors.site_today(visit.subject.site, now=timezone.now()) > visit.window_latest
            ),
            done=lambda visit, _: f"{visit}: marked missed.",
            help="Confirm that this planned visit did not take place once its window has closed.",
        )
    }
    site_path = "subject__site"
    change_act = Act.RECORD_VISIT
    list_display = ["subject", "code", "target_date", "window", "visit_date", "platelets", "status", "window_kept"]
    list_filter = ["status", "deviation", "definition__code", "subject__site"]
    search_fields = ["subject__study_number"]
    readonly_fields = ["subject", "definition", "target_date", "window", "status", "window_kept"]
    list_select_related = ["subject__site", "definition"]

    @admin.display(description="Visit", ordering="definition__target_day")
    def code(self, visit):
        return visit.definition.code

    @admin.display(description="Window (site-local)")
    def window(self, visit):
        return f"{visit.window_earliest} … {visit.window_latest}"

    @admin.display(description="Protocol deviation", ordering="deviation")
    def window_kept(self, visit):
        return deviation_text(visit.deviation, visit.deviation_reason)


class AdverseEventForm(ServiceChangeForm):
    """An AE as the API takes it, recorded or corrected through the same services and their field checks."""

    class Meta:
        model = AdverseEvent
        fields = ["subject", *services.AE_FIELDS]

    def run_service(self, actor, cleaned):
        if self.instance.pk is None:
            values = {name: cleaned[name] for name in services.AE_FIELDS if name in cleaned}
            return services.ae_record(actor=actor, subject=cleaned["subject"], **values)
        values = {name: cleaned[name] for name in self.changed_data if name in services.AE_FIELDS}
        return services.ae_update(actor=actor, ae=self.instance, reason=self.reason, **values)


class AdjudicationFilter(admin.SimpleListFilter):
    title = "DLT adjudication"
    parameter_name = "adjudication"

    def lookups(self, request, model_admin):
        return [(state.value, state.value.replace("_", " ")) for state in selectors.AdjudicationState]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        keep = [ae.pk for ae in queryset if selectors.adjudication_state(ae).value == self.value()]
        return queryset.filter(pk__in=keep)


@admin.register(AdverseEvent)
class AdverseEventAdmin(AuditedAdmin):
    form = AdverseEventForm
    object_acts = admin_acts.AE_ACTS
    site_path = "subject__site"
    add_act = Act.RECORD_AE
    change_act = Act.CORRECT_AE
    list_filter = [
        "grade",
        "serious",
        ("dlt_assessment__is_candidate", admin.BooleanFieldListFilter),
        AdjudicationFilter,
        "relatedness",
        "source",
        "subject__site",
    ]
    search_fields = ["subject__study_number", "verbatim_term", "other_term", "ctcae_term__term"]
    readonly_fields = ["source", "ctcae_version", "susar", "onset_day", "dlt_flag", "adjudication"]

    def get_queryset(self, request):
        related = (*AE_RELATED, "sae_report__signer")
        return super().get_queryset(request).select_related(*related)

    def get_list_display(self, request):
        clocks, now = selectors.safety_config().clocks, timezone.now()

        @admin.display(description="SAE clock")
        def sae_clock(ae):
            clock = selectors.sae_clock(ae, clocks=clocks, now=now)
            return "—" if clock is None else f"{clock.status.value} (due {format_local(clock.deadline)})"

        return ["subject", "verbatim_term", "grade", "onset_date", "relatedness", "serious", "adjudication", sae_clock]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "subject"] if obj else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "subject":
            kwargs["queryset"] = subjects_visible_to(request.user).filter(site__in=sites_of_member(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="Onset study day")
    def onset_day(self, ae):
        day = selectors.onset_study_day(ae) if ae.pk else None
        return "—" if day is None else f"D{day}"

    @admin.display(description="DLT flag")
    def dlt_flag(self, ae):
        assessment = selectors.dlt_assessment_of(ae) if ae.pk else None
        return "—" if assessment is None else assessment.flag_reason

    @admin.display(description="DLT adjudication")
    def adjudication(self, ae):
        return selectors.adjudication_state(ae).value.replace("_", " ") if ae.pk else "—"


class DltAdjudicationInline(ReadOnlyInline):
    """Every signed adjudication of the AE, first to current: superseded ones stay, with why."""

    model = DltAdjudication
    fields = ["signature", "decision", "decision_reason", "supersedes", "reason_for_change", "status"]
    ordering = ["signed_at", "pk"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    @admin.display(description="Signature (printed name — meaning — time)")
    def signature(self, adjudication):
        return signature_display(adjudication)

    @admin.display(description="Status")
    def status(self, adjudication):
        assessment = adjudication.assessment
        current = selectors.current_adjudication(assessment)
        if current is None or current.pk != adjudication.pk:
            return "superseded"
        valid = selectors.adjudication_valid(assessment.adverse_event, assessment, adjudication)
        return "current" if valid else "current, invalidated by a later change"


@admin.register(DltAssessment)
class DltAssessmentAdmin(ReadOnlyAdmin):
    site_path = "adverse_event__subject__site"
    list_display = ["adverse_event", "is_candidate", "rule", "state", "current_signature"]
    list_filter = ["is_candidate", "rule"]
    search_fields = ["adverse_event__subject__study_number"]
    list_select_related = ["adverse_event__subject__site", "adverse_event__subject__infusion"]
    inlines = [DltAdjudicationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("adjudications")

    @admin.display(description="Adjudication (valid while the AE's DLT facts are unchanged)")
    def state(self, assessment):
        return selectors.adjudication_state(assessment.adverse_event).value.replace("_", " ")

    @admin.display(description="Current adjudication")
    def current_signature(self, assessment):
        current = selectors.current_adjudication(assessment)
        return "—" if current is None else f"{current.get_decision_display()} ({signature_display(current)})"


@admin.register(SaeReport)
class SaeReportAdmin(ReadOnlyAdmin):
    site_path = "adverse_event__subject__site"
    list_display = ["adverse_event", "reported_at", "printed_name", "meaning", "signed_at", "still_valid"]
    search_fields = ["adverse_event__subject__study_number"]
    list_select_related = ["adverse_event__subject__site", "adverse_event__ctcae_term"]

    @admin.display(boolean=True, description="Valid (AE unchanged since signing)")
    def still_valid(self, report):
        return selectors.sae_report_valid(report.adverse_event)


# --- lab results and temperatures, graded by CTCAE through the same services as the API


class SubjectResultForm(ServiceAddForm):
    """A result of a dosed subject of one of the user's sites, recorded through its grading service."""

    subject = forms.ModelChoiceField(queryset=Subject.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        subjects = Subject.objects.filter(site__in=sites_of_member(self.request.user), infusion__isnull=False)
        self.fields["subject"].queryset = subjects.select_related("site")

    def service_values(self, cleaned: dict) -> dict:
        """The record's own fields (the admin's form factory adds `subject` to Meta.fields: it is passed apart)."""
        return {name: cleaned[name] for name in self.Meta.fields if name not in ("subject", "analyte")}


class LabResultForm(SubjectResultForm):
    analyte = forms.ChoiceField(choices=[(term, term.replace("_", " ")) for term in TERM_ANALYTES])
    unit = forms.CharField(max_length=10, help_text=f"Per analyte: {LAB_UNITS}.")

    class Meta:
        model = LabResult
        fields = ["observed_on", "value", "unit", "lln", "uln", "baseline", "baseline_reason", "on_anticoagulation"]
        help_texts = {
            "value": "As reported, in the unit below.",
            "baseline": "Blank: the subject's screening value. Otherwise in the unit below, with the reason.",
        }

    def run_service(self, actor, cleaned):
        values = self.service_values(cleaned)
        services.lab_result_grade(actor=actor, subject=cleaned["subject"], analyte=cleaned["analyte"], **values)
        return LabResult.objects.filter(subject=cleaned["subject"]).latest("pk")


@admin.register(LabResult)
class LabResultAdmin(ServiceAddAdmin):
    add_form = LabResultForm
    add_act = Act.RECORD_AE
    site_path = "subject__site"
    list_display = ["subject", "ctcae_term", "observed_on", "value", "unit", "grade", "action", "adverse_event"]
    list_filter = ["ctcae_term", "grade"]
    search_fields = ["subject__study_number"]
    list_select_related = ["subject", "ctcae_term", "adverse_event"]


class TemperatureForm(SubjectResultForm):
    class Meta:
        model = TemperatureRecord
        fields = ["measured_at", "temperature_c", "sustained_hours", "source"]

    def run_service(self, actor, cleaned):
        values = self.service_values(cleaned)
        services.temperature_record(actor=actor, subject=cleaned["subject"], **values)
        return TemperatureRecord.objects.filter(subject=cleaned["subject"]).latest("pk")


@admin.register(TemperatureRecord)
class TemperatureRecordAdmin(ServiceAddAdmin):
    add_form = TemperatureForm
    add_act = Act.RECORD_AE
    site_path = "subject__site"
    list_display = ["subject", "measured_at", "temperature_c", "source", "grade", "action", "adverse_event"]
    list_filter = ["grade"]
    search_fields = ["subject__study_number"]
    list_select_related = ["subject", "adverse_event"]
