"""Users and groups in the admin: history shown, deletion refused, every change saved with the user and a reason."""

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from simple_history.admin import SimpleHistoryAdmin

from ctit_trial.admin_base import ReasonForChangeForm, apply_to_each
from ctit_trial.audit import REASON_REQUIRED
from ctit_trial.users import user_deactivate
from ctit_trial.workspace.views import index_with_todays_work

User = get_user_model()
REASON_FIELDSET = ("Reason for change", {"fields": ["reason_for_change"]})


class UserReasonForm(UserChangeForm, ReasonForChangeForm):
    """The user change form with the reason for change (required for any edit)."""


class GroupReasonForm(ReasonForChangeForm):
    class Meta:
        model = Group
        fields = ["name", "permissions"]


class DeactivateActionForm(ActionForm):
    reason = forms.CharField(required=False, label="Reason", help_text="Required to deactivate.")


def _stamp(request, obj, form, change) -> None:
    """The history rows of this save and of its many-to-many changes (groups) name the user and the reason."""
    reason = (form.cleaned_data.get("reason_for_change") or "").strip()
    obj._history_user = request.user
    obj._change_reason = reason or f"{obj._meta.verbose_name} created in admin"


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class AuditedUserAdmin(SimpleHistoryAdmin, UserAdmin):
    """Users are deactivated with a reason, never deleted: history and signatures keep naming them."""

    form = UserReasonForm
    action_form = DeactivateActionForm
    actions = ["deactivate"]
    fieldsets = [*UserAdmin.fieldsets, REASON_FIELDSET]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        _stamp(request, obj, form, change)
        super().save_model(request, obj, form, change)

    @admin.action(description="Deactivate the selected users (reason required)", permissions=["change"])
    def deactivate(self, request, queryset):
        reason = request.POST.get("reason", "")
        if not reason.strip():
            self.message_user(request, REASON_REQUIRED, level="error")
            return
        apply_to_each(
            self,
            request,
            queryset,
            lambda user: user_deactivate(actor=request.user, user=user, reason=reason),
            lambda user, _: f"Deactivated: {user.get_username()}.",
        )


@admin.register(Group)
class AuditedGroupAdmin(SimpleHistoryAdmin, GroupAdmin):
    form = GroupReasonForm
    fields = ["name", "permissions", "reason_for_change"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        _stamp(request, obj, form, change)
        super().save_model(request, obj, form, change)


admin.site.index = index_with_todays_work(admin.site.index)  # the index opens on today's work (ctit_trial.workspace)
