"""The one admin base every ModelAdmin uses: site scoping, permissions from the role table, read-only history,
actions that declare their act (and ask for a reason), and service refusals shown as messages, never a 500."""

from functools import wraps

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import models, transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from simple_history.admin import SimpleHistoryAdmin

from ctit_trial.api.serializers import TEXT_MAX_LENGTH
from ctit_trial.audit import REASON_REQUIRED, save_audited
from ctit_trial.errors import DomainError, NotVisible
from enrollment.roles import Act, may
from enrollment.selectors import sites_of_member, sites_visible_to

HISTORY_READ_ONLY = "The audit trail is read-only: history cannot be edited or reverted."


def scope_to_sites(queryset, user, site_path: str | None, *, member_only: bool = False):
    """Rows whose site (reached by `site_path`) the user may see (or, with member_only, works at)."""
    if site_path is None:
        return queryset
    sites = sites_of_member(user) if member_only else sites_visible_to(user)
    return queryset.filter(**{f"{site_path}__in": sites})


def act_check(act: Act):
    """A `has_<name>_permission` method granting the admin action named <name> to the roles holding `act`."""

    def check(self, request, obj=None):
        return may(request.user, act)

    check.act = act
    return check


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


class ActionReasonForm(forms.Form):
    """The intermediate page of an action that needs a reason (the service requires one)."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=500, strip=True)


def _history_first(method):
    """Keep a subclass's override from re-opening fields on the read-only history form."""

    @wraps(method)
    def wrapper(self, request, obj=None):
        if getattr(request, "history_read_only", False):
            return getattr(ScopedAdmin, method.__name__)(self, request, obj)
        return method(self, request, obj)

    return wrapper


class ScopedAdmin(SimpleHistoryAdmin):
    """Every admin view goes through here: rows of the user's sites only, acts from the role table."""

    site_path: str | None = None  # path from the model to its Site ("subject__site"); None: trial-wide data
    view_act: Act = Act.READ
    add_act: Act | None = None
    change_act: Act | None = None
    formfield_overrides = BOUNDED_TEXT  # admin text inputs are bounded like the API's

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("get_readonly_fields", "get_fieldsets"):
            if name in cls.__dict__:
                setattr(cls, name, _history_first(cls.__dict__[name]))

    # --- scoping -----------------------------------------------------------------------------------------
    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def scope_queryset(self, request, queryset):
        return scope_to_sites(queryset, request.user, self.site_path)

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return self.scope_queryset(request, queryset), may_have_duplicates

    def get_list_filter(self, request):
        """Relation filters list only the values present in the user's rows (never another site's)."""
        return [self._scoped_filter(entry) for entry in super().get_list_filter(request)]

    def _scoped_filter(self, entry):
        if isinstance(entry, str) and get_fields_from_path(self.model, entry)[-1].is_relation:
            return (entry, admin.RelatedOnlyFieldListFilter)
        return entry

    def is_member_site_row(self, request, obj) -> bool:
        """Whether the user works at the row's site (only members change a site's data)."""
        if obj is None or self.site_path is None or request.user.is_superuser:
            return True
        rows = scope_to_sites(
            self.model._default_manager.filter(pk=obj.pk), request.user, self.site_path, member_only=True
        )
        return rows.exists()

    # --- permissions from the role table -----------------------------------------------------------------
    def has_view_permission(self, request, obj=None):
        return may(request.user, self.view_act)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return self.add_act is not None and may(request.user, self.add_act)

    def has_change_permission(self, request, obj=None):
        allowed = self.change_act is not None and may(request.user, self.change_act)
        return allowed and self.is_member_site_row(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    # --- history: scoped and read-only -------------------------------------------------------------------
    def _require_visible(self, request, object_id):
        if not self.has_view_permission(request):
            raise DjangoPermissionDenied
        if not self.get_queryset(request).filter(pk=object_id).exists():
            raise Http404(f"No {self.model._meta.verbose_name} with this id at your sites.")

    def history_view(self, request, object_id, extra_context=None):
        self._require_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET"], HISTORY_READ_ONLY)
        self._require_visible(request, object_id)
        request.history_read_only = True
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return True

    def get_fieldsets(self, request, obj=None):
        if getattr(request, "history_read_only", False):
            return [(None, {"fields": self._history_fields()})]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if getattr(request, "history_read_only", False):
            return self._history_fields()
        return super().get_readonly_fields(request, obj)

    def get_inlines(self, request, obj):
        return [] if getattr(request, "history_read_only", False) else super().get_inlines(request, obj)

    def _history_fields(self) -> list[str]:
        return [field.name for field in self.model._meta.concrete_fields if not field.primary_key]

    # --- not found and refused: 404 or a message, never a 500 --------------------------------------------
    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404(f"No {opts.verbose_name} with this id at your sites.")

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self.refusals_as_messages(super().changeform_view)(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        return self.refusals_as_messages(super().changelist_view)(request, extra_context)

    def refusals_as_messages(self, view):
        """Wrap a view: a service's refusal rolls back and comes back to the same page as an error message."""

        @wraps(view)
        def guarded(request, *args, **kwargs):
            try:
                with transaction.atomic():
                    return view(request, *args, **kwargs)
            except NotVisible as error:
                raise Http404(error.message) from error
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
                return HttpResponseRedirect(request.get_full_path())

        return guarded

    def act_view(self, view, act: Act):
        """A custom admin view (URL) for the roles holding `act`, through the admin site's login check."""

        @wraps(view)
        def checked(request, *args, **kwargs):
            if not may(request.user, act):
                raise DjangoPermissionDenied
            return view(request, *args, **kwargs)

        checked.act = act
        return self.admin_site.admin_view(self.refusals_as_messages(checked))

    def reason_then(self, request, queryset, *, title: str, run):
        """An action's intermediate page asking for a reason; on submit, `run(reason)` does the work."""
        form = ActionReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            run(form.cleaned_data["reason"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "form": form,
            "queryset": queryset,
            "action": request.POST.get("action", ""),
            "opts": self.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/action_reason.html", context)


class AuditedAdmin(ScopedAdmin):
    """Staff edit through services; history rows carry the user and the reason; nothing is deleted."""

    form = ReasonForChangeForm

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


class ReadOnlyAdmin(ScopedAdmin):
    """Rows created only by services: staff read them and their history here."""


def apply_to_each(model_admin, request, queryset, action, describe) -> None:
    """Run a service for each selected row, reporting each result or refusal as an admin message."""
    for obj in queryset:
        try:
            with transaction.atomic():
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
