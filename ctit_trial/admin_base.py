"""Admin base: history visible, deletion refused, and a reason for change required on every edit."""

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from simple_history.admin import SimpleHistoryAdmin

from ctit_trial.api.serializers import TEXT_MAX_LENGTH
from ctit_trial.audit import REASON_REQUIRED, save_audited
from ctit_trial.errors import DomainError

# Admin forms bound every model TextField like the API does (ctit_trial.api.serializers.TEXT_MAX_LENGTH).
BOUNDED_TEXT = {models.TextField: {"max_length": TEXT_MAX_LENGTH}}


class ReasonForChangeForm(forms.ModelForm):
    """Adds the reason-for-change field; it is required whenever an existing record is edited."""

    reason_for_change = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when editing existing data; kept in the audit trail.",
    )

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.has_changed() and not (cleaned.get("reason_for_change") or "").strip():
            self.add_error("reason_for_change", REASON_REQUIRED)
        return cleaned


class AuditedAdmin(SimpleHistoryAdmin):
    """Staff edit through services; history rows carry the user and the reason; nothing is deleted."""

    form = ReasonForChangeForm
    formfield_overrides = BOUNDED_TEXT

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        reason = form.cleaned_data.get("reason_for_change") or ""
        self.save_through_service(request, obj, form, change, reason.strip())

    def save_through_service(self, request, obj, form, change, reason):
        """Default for reference data: validate and save with the user and reason stamped."""
        save_audited(obj, actor=request.user, reason=reason or f"{obj._meta.verbose_name} created in admin")


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent, never added, changed or deleted there."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(SimpleHistoryAdmin):
    """Rows created only by services: staff read them and their history here."""

    formfield_overrides = BOUNDED_TEXT  # the add forms of ServiceAddAdmin

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def apply_to_each(model_admin, request, queryset, action, describe) -> None:
    """Run a service for each selected row, reporting each result or refusal as an admin message."""
    for obj in queryset:
        try:
            result = action(obj)
        except DomainError as error:
            model_admin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
        else:
            model_admin.message_user(request, describe(obj, result), messages.SUCCESS)


class ServiceAddForm(forms.ModelForm):
    """An admin add form whose clean() runs the creating service in a savepoint; its refusals become form errors."""

    request = None  # set per request by ServiceAddAdmin.get_form

    def run_service(self, actor, cleaned: dict):
        """Call the service that creates the record; return it."""
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                self.created = self.run_service(self.request.user, cleaned)
        except DomainError as error:
            for field, messages_ in (error.errors or {None: [error.message]}).items():
                for message in messages_:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned

    def _post_clean(self):
        """The service validated and saved the record: skip the model's own validation of a half-built instance."""


class ServiceAddAdmin(ReadOnlyAdmin):
    """Read-only rows whose add form records a new one through a service (e.g. the D−1 reconfirmation)."""

    add_form: type[ServiceAddForm]

    def has_add_permission(self, request):
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def get_fields(self, request, obj=None):
        return list(self.add_form.base_fields) if obj is None else super().get_fields(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, **kwargs)
        form = type(self.add_form.__name__, (self.add_form,), {"request": request})
        return super().get_form(request, obj, form=form, **kwargs)

    def save_model(self, request, obj, form, change):
        obj.__dict__.update(form.created.__dict__)  # the service saved it, with its audit row

    def save_related(self, request, form, formsets, change):
        """Nothing more to save: the service wrote everything in its transaction."""
