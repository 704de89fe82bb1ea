"""The one admin base every ModelAdmin uses: site scoping, permissions from the role table, read-only history,
actions that declare their act (and ask for a reason), and service refusals shown as messages, never a 500."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import FORMFIELD_FOR_DBFIELD_DEFAULTS
from django.contrib.admin.utils import get_fields_from_path
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from simple_history.admin import SimpleHistoryAdmin

from ctit_trial.api.serializers import TEXT_MAX_LENGTH
from ctit_trial.audit import REASON_REQUIRED, save_audited
from ctit_trial.errors import DomainError, NotVisible, constraint_conflict
from ctit_trial.site_time import working_zone, zone_label
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


def admin_formfield(model_field, **kwargs) -> forms.Field:
    """A model field's form field with the admin's widgets (the split date and time, the calendar) as a ModelAdmin
    gives them, for fields a form declares itself."""
    for model_class in type(model_field).__mro__:
        if model_class in FORMFIELD_FOR_DBFIELD_DEFAULTS:
            kwargs = {**FORMFIELD_FOR_DBFIELD_DEFAULTS[model_class], **kwargs}
            break
    return model_field.formfield(**kwargs)


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

    def reason_required(self) -> bool:
        return bool(self.instance.pk) and self.has_changed()

    def clean(self):
        cleaned = super().clean()
        if self.reason_required() and not (cleaned.get("reason_for_change") or "").strip():
            self.add_error("reason_for_change", REASON_REQUIRED)
        return cleaned

    @property
    def reason(self) -> str:
        return (self.cleaned_data.get("reason_for_change") or "").strip()


class ServiceFormMixin:
    """The one way the admin writes: once the fields are valid, clean() runs the act's service in a savepoint.

    The service does every check at the moment of the act and writes the audit trail; its refusal rolls the
    savepoint back and lands on the field it names (or on the form). `result` is what the service returned.
    """

    request = None  # set per request by the admin (ServiceAdminMixin.get_form, act_page)
    result = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zone = zone_label()
        for field in self.fields.values():
            if isinstance(field, forms.DateTimeField | forms.SplitDateTimeField):
                field.help_text = " ".join(filter(None, [f"Site-local time ({zone}).", str(field.help_text or "")]))

    def run_service(self, actor, cleaned: dict):
        """Call the one service of the act; return what it wrote."""
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            self.result = self._run_in_savepoint(cleaned)
        return cleaned

    def _run_in_savepoint(self, cleaned: dict):
        try:
            with transaction.atomic():
                return self.run_service(self.request.user, cleaned)
        except DomainError as error:
            self.add_refusal(error.errors or {None: [error.message]})
        except ValidationError as error:
            self.add_refusal(error.message_dict if hasattr(error, "error_dict") else {None: error.messages})
        except IntegrityError as error:  # a race the service's checks could not see: the constraint's words
            self.add_refusal({None: [constraint_conflict(error).message]})
        return None

    def add_refusal(self, errors: dict) -> None:
        for field, field_messages in errors.items():
            for message in field_messages if isinstance(field_messages, list | tuple) else [field_messages]:
                self.add_error(field if field in self.fields else None, message)

    def _post_clean(self):
        """A model form's instance is never validated or built here: the service validated and saved the record."""


class ServiceAddForm(ServiceFormMixin, forms.ModelForm):
    """An admin add form whose fields come from the model and whose save is the creating service."""


class ServiceChangeForm(ServiceFormMixin, ReasonForChangeForm):
    """An admin add or change form saved through a service, with the reason for change on edits.

    The default saves reference data (sites' memberships…) validated, with the user and the reason stamped.
    """

    def run_service(self, actor, cleaned):
        instance = forms.models.construct_instance(self, self.instance, fields=self._meta.fields)
        verb = "changed" if instance.pk else "created"
        save_audited(instance, actor=actor, reason=self.reason or f"{instance._meta.verbose_name} {verb} in admin")
        return instance


class ActForm(ServiceFormMixin, forms.Form):
    """The form of one clinical act on one record (`target`), shown on its own admin page (ActSpec)."""

    def __init__(self, *args, target, **kwargs):
        self.target = target
        super().__init__(*args, **kwargs)


class SignedActForm(ActForm):
    """An act that is an electronic signature: the signer re-enters the password (and the one-time code)."""

    password = forms.CharField(widget=forms.PasswordInput, help_text="Your password, re-entered to sign.")
    otp_token = forms.CharField(
        required=False,
        label="One-time code",
        max_length=16,
        help_text="The code of your authenticator app, when a second factor is configured for you.",
    )

    def credentials(self, cleaned: dict) -> dict:
        """The signer's credentials as the signing services take them."""
        return {"password": cleaned["password"], "otp_token": cleaned["otp_token"] or None}


@dataclass(frozen=True)
class ActSpec:
    """A clinical act offered on a record's admin page: a button for the roles holding `act`, when `available`."""

    label: str
    act: Act
    form: type[ActForm]
    available: Callable[[object], bool] = lambda target: True
    done: Callable[[object, object], str] = lambda target, result: "Done."
    help: str = ""
    facts: Callable[[object], list[tuple[str, str]]] = lambda target: []  # what the act is on, shown above the form
    offered_to: Callable[[object, object], bool] = lambda target, user: True  # whose button it is (the service decides)


class ActionReasonForm(forms.Form):
    """The intermediate page of an action that needs a reason (the service requires one)."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=500, strip=True)


def deviation_text(deviation: bool, reason: str) -> str:
    """A protocol deviation in words ('Deviation: …'), never a tick that reads as 'done'."""
    return f"Deviation: {reason or 'outside the allowed window'}" if deviation else "—"


def rendered(response):
    """Render a template response now, inside the caller's time zone (it would otherwise render after the view)."""
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    return response


def _is_admin_path(url: str | None) -> bool:
    return bool(url) and url.startswith("/admin/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None)


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
    object_acts: dict[str, ActSpec] = {}  # the clinical acts offered as buttons on a record's page
    change_form_template = "admin/scoped_change_form.html"

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

    def keeps_history(self) -> bool:
        return hasattr(self.model._meta, "simple_history_manager_attribute")

    def history_view(self, request, object_id, extra_context=None):
        self._require_visible(request, object_id)
        if not self.keeps_history():
            raise Http404(f"{capfirst(self.model._meta.verbose_name_plural)} keep no edit history.")
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
        view = self.refusals_as_messages(super().changeform_view)
        with working_zone(self.zone_of_record(request, object_id)):
            return rendered(view(request, object_id, form_url, extra_context))

    def zone_of_record(self, request, object_id):
        """The zone of the record's site (the page's times are that site's); the user's zone otherwise."""
        if object_id is None or self.site_path is None:
            return timezone.get_current_timezone()
        site_zone = f"{self.site_path}__time_zone" if self.site_path != "pk" else "time_zone"
        try:
            zone = self.get_queryset(request).filter(pk=object_id).values_list(site_zone, flat=True).first()
        except (ValueError, ValidationError):
            zone = None
        return ZoneInfo(zone) if zone else timezone.get_current_timezone()

    # --- clinical acts on a record: a button on its page, a form saved through the act's service ----------
    def get_urls(self):
        act_page = self.admin_site.admin_view(self.act_page)
        return [path("<path:object_id>/act/<str:name>/", act_page, name=self.url_name("act")), *super().get_urls()]

    def url_name(self, view: str) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_{view}"

    def acts_offered(self, request, obj) -> list[dict]:
        """The acts the user may do on this record now, as buttons (label, url)."""
        if obj is None or not self.is_member_site_row(request, obj):
            return []
        return [
            {"label": spec.label, "url": reverse(f"admin:{self.url_name('act')}", args=[obj.pk, name])}
            for name, spec in self.object_acts.items()
            if may(request.user, spec.act) and spec.available(obj) and spec.offered_to(obj, request.user)
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["object_acts"] = [] if getattr(request, "history_read_only", False) else self.acts_offered(request, obj)
        context["keeps_history"] = self.keeps_history()
        return super().render_change_form(request, context, add, change, form_url, obj)

    def act_page(self, request, object_id, name):
        spec = self.object_acts.get(name)
        if spec is None:
            raise Http404(f"No act '{name}' on {self.model._meta.verbose_name_plural}.")
        if not may(request.user, spec.act):
            raise DjangoPermissionDenied
        obj = self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
        if obj is None:
            raise Http404(f"No {self.model._meta.verbose_name} with this id at your sites.")
        if not self.is_member_site_row(request, obj):
            raise DjangoPermissionDenied
        with working_zone(self.zone_of_record(request, object_id)):
            return rendered(self.refusals_as_messages(self._act_page)(request, obj, spec))

    def _act_page(self, request, obj, spec: ActSpec):
        back = reverse(f"admin:{self.url_name('change')}", args=[obj.pk])
        if not spec.available(obj):
            self.message_user(request, f"{spec.label}: not possible for {obj} now.", messages.ERROR)
            return redirect(back)
        form_class = type(spec.form.__name__, (spec.form,), {"request": request})
        form = form_class(request.POST if request.method == "POST" else None, target=obj)
        if request.method == "POST" and form.is_valid():
            self.message_user(request, spec.done(obj, form.result), messages.SUCCESS)
            return redirect(request.GET.get("next") if _is_admin_path(request.GET.get("next")) else back)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{spec.label}: {obj}",
            "spec": spec,
            "facts": spec.facts(obj),
            "form": form,
            "target": obj,
            "back": back,
            "opts": self.model._meta,
            "media": self.media + form.media,
            "zone": zone_label(),
        }
        return TemplateResponse(request, "admin/act_form.html", context)

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
            except IntegrityError as error:  # a race the service's checks could not see: the constraint's words
                self.message_user(request, constraint_conflict(error).message, messages.ERROR)
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


class ServiceAdminMixin:
    """Add and change forms are service forms: the service saves in clean(); the admin's own save does nothing."""

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if issubclass(form, ServiceFormMixin):
            form = type(form.__name__, (form,), {"request": request})
        return form

    def get_formsets_with_inlines(self, request, obj=None):
        """Inlines only show rows: a POST carries none, so a missing or forged inline form cannot undo a write."""
        if request.method != "POST":
            yield from super().get_formsets_with_inlines(request, obj)

    def save_form(self, request, form, change):
        return form.result if isinstance(form, ServiceFormMixin) else super().save_form(request, form, change)

    def save_model(self, request, obj, form, change):
        """The service saved the record, with its audit row, when the form was validated."""

    def save_related(self, request, form, formsets, change):
        """Nothing more to save: the service wrote everything in its transaction."""


class AuditedAdmin(ServiceAdminMixin, ScopedAdmin):
    """Staff edit through services; history rows carry the user and the reason; nothing is deleted."""

    form = ServiceChangeForm


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent, each linking to its own page; never added, changed or deleted there."""

    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ScopedAdmin):
    """Rows created only by services: staff read them and their history here."""


def object_act_register(model, name: str, spec: ActSpec) -> None:
    """Offer an act of one app on another app's record page (e.g. safety's close-out on the subject's page)."""
    model_admin = admin.site._registry[model]
    model_admin.object_acts = {**model_admin.object_acts, name: spec}


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


class ServiceAddAdmin(ServiceAdminMixin, ReadOnlyAdmin):
    """Read-only rows whose add form records a new one through a service (e.g. the D−1 reconfirmation)."""

    add_form: type[ServiceAddForm]

    def get_fields(self, request, obj=None):
        return list(self.add_form.base_fields) if obj is None else super().get_fields(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)
