"""Admin for consents, identifiers, screenings, evaluations, signatures and screen failures.

These records are written only by services: the acts on a record's page (enrollment/admin_acts.py: the Appendix A
document, evaluation, the investigator's e-signature…) and the API. The pages here show them with their history.
"""

import json

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from ctit_trial.admin_base import (
    AuditedAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceChangeForm,
    act_check,
    apply_to_each,
)
from ctit_trial.signatures import signature_display
from enrollment import selectors, services
from enrollment.admin_acts import SCREENING_ACTS
from enrollment.documents import screening_document
from enrollment.models import (
    Consent,
    CriterionVerdict,
    EligibilityEvaluation,
    EligibilitySignature,
    ScreenFailure,
    Screening,
    ScreeningLab,
    ScreeningSerology,
    SubjectIdentity,
)
from enrollment.roles import Act
from enrollment.services.subjects import IDENTITY_FIELDS


def signature_state(screening: Screening) -> str:
    """'valid (Wang Fang — eligibility confirmed — 2026-03-04 02:00 UTC)', 'invalidated (…)' or 'unsigned'."""
    status = selectors.signature_status(screening)
    if status.signature is None:
        return status.state
    return f"{status.state} ({signature_display(status.signature)})"


def current_outcome(screening: Screening) -> str:
    evaluation = selectors.evaluation_current(screening)
    return evaluation.get_outcome_display() if evaluation else "—"


class LabInline(ReadOnlyInline):
    model = ScreeningLab
    fields = readonly_fields = ["analyte", "value", "unit", "uln", "lln"]
    show_change_link = False


class SerologyInline(ReadOnlyInline):
    model = ScreeningSerology
    fields = readonly_fields = [
        "hiv_ab",
        "tp_ab",
        "hcv_ab",
        "hcv_rna_above_uln",
        "hbsag",
        "hbv_history",
        "hbcab",
        "hbv_dna_iu_ml",
        "hbv_dna_date",
    ]
    show_change_link = False


class EvaluationInline(ReadOnlyInline):
    model = EligibilityEvaluation
    fields = readonly_fields = ["outcome", "engine_version", "protocol_version", "evaluated_at", "evaluated_by"]


@admin.register(Screening)
class ScreeningAdmin(ReadOnlyAdmin):
    site_path = "subject__site"
    list_display = ["__str__", "subject", "attempt", "screening_date", "outcome", "signature"]
    list_filter = ["subject__site", "screening_date"]
    search_fields = ["subject__study_number"]
    inlines = [LabInline, SerologyInline, EvaluationInline]
    actions = ["evaluate_again"]
    object_acts = SCREENING_ACTS
    readonly_fields = ["outcome", "signature", "verdicts", "document"]

    def get_queryset(self, request):
        related = ("subject__site", "consent", "serology", "recorded_by")
        prefetch = ("labs", "signatures", "evaluations__verdicts__criterion")
        return super().get_queryset(request).select_related(*related).prefetch_related(*prefetch)

    @admin.display(description="Eligibility")
    def outcome(self, screening):
        return current_outcome(screening)

    @admin.display(description="Investigator signature")
    def signature(self, screening):
        return signature_state(screening)

    @admin.display(description="Criteria (current evaluation)")
    def verdicts(self, screening):
        """Each criterion's verdict with its reason (IN1–IN6, EX1–EX21), from the current evaluation."""
        evaluation = selectors.evaluation_current(screening)
        if evaluation is None:
            return "Not evaluated."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (verdict.criterion.code, verdict.get_status_display(), verdict.reason)
                for verdict in evaluation.verdicts.select_related("criterion").order_by("pk")
            ),
        )
        return format_html(
            '<table class="criterion-verdicts"><thead><tr><th>Criterion</th><th>Verdict</th><th>Reason</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="Appendix A document (what the engine evaluates and the signature covers)")
    def document(self, screening):
        return format_html("<pre>{}</pre>", json.dumps(screening_document(screening), indent=2, default=str))

    has_evaluate_permission = act_check(Act.RECORD_SCREENING)

    @admin.action(description="Evaluate eligibility again", permissions=["evaluate"])
    def evaluate_again(self, request, queryset):
        apply_to_each(
            self,
            request,
            queryset,
            lambda screening: services.eligibility_evaluate(actor=request.user, screening=screening),
            lambda screening, evaluation: f"{screening}: {evaluation.get_outcome_display()}.",
        )


class VerdictInline(ReadOnlyInline):
    model = CriterionVerdict
    fields = readonly_fields = ["criterion", "status", "reason"]
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("criterion")


@admin.register(EligibilityEvaluation)
class EligibilityEvaluationAdmin(ReadOnlyAdmin):
    site_path = "screening__subject__site"
    list_display = ["screening", "outcome", "engine_version", "protocol_version", "evaluated_at", "evaluated_by"]
    list_filter = ["outcome", "engine_version", "screening__subject__site"]
    search_fields = ["screening__subject__study_number"]
    inlines = [VerdictInline]
    list_select_related = ["screening__subject__site", "evaluated_by"]


@admin.register(EligibilitySignature)
class EligibilitySignatureAdmin(ReadOnlyAdmin):
    site_path = "screening__subject__site"
    list_display = ["screening", "printed_name", "meaning", "signed_at", "still_valid"]
    search_fields = ["screening__subject__study_number", "printed_name"]
    list_select_related = ["screening__subject"]

    @admin.display(boolean=True, description="Valid (data unchanged since signing)")
    def still_valid(self, signature):
        status = selectors.signature_status(signature.screening)
        return status.is_valid and status.signature.pk == signature.pk


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    site_path = "subject__site"
    list_display = ["subject", "version", "signed_at", "obtained_by", "recorded_by"]
    list_filter = ["subject__site", "version"]
    search_fields = ["subject__study_number"]
    list_select_related = ["subject__site", "obtained_by", "recorded_by"]


@admin.register(ScreenFailure)
class ScreenFailureAdmin(ReadOnlyAdmin):
    site_path = "subject__site"
    list_display = ["subject", "recorded_at", "failed_criteria", "reason"]
    list_filter = ["subject__site"]
    search_fields = ["subject__study_number"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("subject").prefetch_related("criteria")

    @admin.display(description="Failed criteria")
    def failed_criteria(self, failure):
        return ", ".join(criterion.code for criterion in failure.criteria.all()) or "—"


class IdentityForm(ServiceChangeForm):
    class Meta:
        model = SubjectIdentity
        fields = ["subject", *IDENTITY_FIELDS]

    def run_service(self, actor, cleaned):
        subject = self.instance.subject if self.instance.pk else cleaned["subject"]
        values = {field: cleaned[field] for field in IDENTITY_FIELDS}
        return services.identity_save(actor=actor, subject=subject, reason=self.reason, **values)


@admin.register(SubjectIdentity)
class SubjectIdentityAdmin(AuditedAdmin):
    """Direct identifiers: only roles holding the identity permissions see this page at all."""

    form = IdentityForm
    site_path = "subject__site"
    view_act = Act.READ_IDENTITY
    add_act = change_act = Act.RECORD_IDENTITY
    list_display = ["subject", "full_name"]
    search_fields = ["subject__study_number", "full_name"]
    list_select_related = ["subject"]

    def get_readonly_fields(self, request, obj=None):
        return ["subject"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "subject":
            member_sites = selectors.sites_of_member(request.user)
            kwargs["queryset"] = selectors.subjects_visible_to(request.user).filter(
                site__in=member_sites, identity__isnull=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
