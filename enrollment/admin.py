from django import forms
from django.contrib import admin
from django.urls import path

from ctit_trial import journey
from ctit_trial.admin_base import (
    AuditedAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    ServiceAddAdmin,
    ServiceAddForm,
    ServiceChangeForm,
    act_check,
    apply_to_each,
)
from ctit_trial.workspace.views import casebook_view
from enrollment import selectors, services
from enrollment.admin_acts import SUBJECT_ACTS, enrolled_message
from enrollment.admin_screening import current_outcome, signature_state
from enrollment.models import (
    Consent,
    Criterion,
    Discontinuation,
    Protocol,
    ScreenFailure,
    Screening,
    Site,
    SiteMembership,
    Subject,
    SubjectIdentity,
)
from enrollment.roles import Act, may


@admin.register(Protocol)
class ProtocolAdmin(ReadOnlyAdmin):
    list_display = ["code", "registry_id", "version", "ctcae_version", "planned_enrollment"]


@admin.register(Criterion)
class CriterionAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "text", "catalogue_version"]
    list_filter = ["kind", "catalogue_version"]
    search_fields = ["code", "text"]


class SiteForm(ServiceChangeForm):
    class Meta:
        model = Site
        fields = ["code", "name", "time_zone", "is_active"]

    def run_service(self, actor, cleaned):
        if self.instance.pk is None:
            return services.site_create(
                actor=actor, code=cleaned["code"], name=cleaned["name"], time_zone=cleaned["time_zone"]
            )
        changes = {field: cleaned[field] for field in self.changed_data if field in SiteForm.Meta.fields}
        return services.site_update(actor=actor, site=self.instance, reason=self.reason, **changes)


@admin.register(Site)
class SiteAdmin(AuditedAdmin):
    form = SiteForm
    site_path = "pk"
    change_act = Act.EDIT_SITE
    list_display = ["code", "name", "time_zone", "is_active"]
    list_filter = ["is_active", "time_zone"]
    search_fields = ["code", "name"]

    def has_add_permission(self, request):
        return request.user.is_superuser  # a new site is set up by the administrator

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj else []


@admin.register(SiteMembership)
class SiteMembershipAdmin(AuditedAdmin):
    site_path = "site"
    add_act = change_act = Act.MANAGE_MEMBERSHIPS
    list_display = ["user", "site", "is_active"]
    list_filter = ["site", "is_active"]
    search_fields = ["user__username", "user__last_name", "site__code"]
    autocomplete_fields = ["user"]


class SubjectAddForm(ServiceChangeForm):
    class Meta:
        model = Subject
        fields = ["site"]

    def run_service(self, actor, cleaned):
        return services.subject_register(actor=actor, site=cleaned["site"])


class ConsentInline(ReadOnlyInline):
    model = Consent
    fields = readonly_fields = ["version", "signed_at", "obtained_by", "recorded_by"]


class ScreeningInline(ReadOnlyInline):
    model = Screening
    fields = readonly_fields = ["attempt", "screening_date", "outcome", "signature"]

    @admin.display(description="Eligibility")
    def outcome(self, screening):
        return current_outcome(screening)

    @admin.display(description="Investigator signature")
    def signature(self, screening):
        return signature_state(screening)


class ScreenFailureInline(ReadOnlyInline):
    model = ScreenFailure
    fields = readonly_fields = ["recorded_at", "reason", "recorded_by"]


class DiscontinuationInline(ReadOnlyInline):
    model = Discontinuation
    fields = readonly_fields = ["kind", "left_at", "reason", "recorded_by", "recorded_at"]


class IdentityInline(ReadOnlyInline):
    model = SubjectIdentity
    fields = readonly_fields = ["full_name", "national_id", "phone", "email"]


@admin.register(Subject)
class SubjectAdmin(AuditedAdmin):
    site_path = "site"
    add_act = Act.REGISTER_SUBJECT
    list_display = ["study_number", "site", "status", "created_at", "enrolled_at"]
    list_filter = ["site", "status", ("dose_slots__dose_level", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["study_number"]
    readonly_fields = ["study_number", "site", "sequence", "status", "created_at", "enrolled_at"]
    list_select_related = ["site"]
    actions = ["enroll"]
    object_acts = SUBJECT_ACTS  # a subject changes only through its acts (buttons on its page)
    has_enroll_permission = act_check(Act.ENROLL)
    change_form_template = "admin/enrollment/subject/change_form.html"  # links to the casebook

    def get_urls(self):
        casebook = path(
            "<int:object_id>/casebook/", self.act_view(casebook_view(self), Act.READ), name="subject_casebook"
        )
        return [casebook, *super().get_urls()]

    def get_inlines(self, request, obj):
        if obj is None or getattr(request, "history_read_only", False):
            return []
        inlines = [ConsentInline, ScreeningInline, ScreenFailureInline, DiscontinuationInline]
        return [IdentityInline, *inlines] if may(request.user, Act.READ_IDENTITY) else inlines

    @admin.action(description="Enroll (signed eligible, in window: claims a dose slot)", permissions=["enroll"])
    def enroll(self, request, queryset):
        apply_to_each(
            self,
            request,
            queryset,
            lambda subject: journey.subject_enroll(actor=request.user, subject=subject),
            enrolled_message,
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SubjectAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "site":
            kwargs["queryset"] = selectors.sites_of_member(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class DiscontinuationForm(ServiceAddForm):
    """Record that a subject of the user's sites left the trial, through the journey (as the API does)."""

    subject = forms.ModelChoiceField(queryset=Subject.objects.none(), help_text="Enrolled or dosed subjects only.")

    class Meta:
        model = Discontinuation
        fields = ["kind", "left_at", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        subjects = Subject.objects.filter(site__in=selectors.sites_of_member(self.request.user))
        on_study = subjects.filter(status__in=[Subject.Status.ENROLLED, Subject.Status.DOSED])
        self.fields["subject"].queryset = on_study.select_related("site")

    def run_service(self, actor, cleaned):
        return journey.subject_discontinue(
            actor=actor,
            subject=cleaned["subject"],
            kind=cleaned["kind"],
            left_at=cleaned["left_at"],
            reason=cleaned["reason"],
        )


@admin.register(Discontinuation)
class DiscontinuationAdmin(ServiceAddAdmin):
    add_form = DiscontinuationForm
    site_path = "subject__site"
    add_act = Act.DISCONTINUE_SUBJECT
    list_display = ["subject", "kind", "left_at", "recorded_by", "recorded_at"]
    list_filter = ["kind", "subject__site"]
    search_fields = ["subject__study_number"]
    list_select_related = ["subject__site", "recorded_by"]
