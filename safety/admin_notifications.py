"""The reminder delivery log in the admin: read-only, scoped to the viewer's sites, with a resend action."""

from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ActionForm

from ctit_trial.admin_base import ScopedAdmin, act_check, apply_to_each
from enrollment.roles import Act
from safety import services
from safety.admin_acts import NOTIFICATION_ACTS
from safety.models import Notification
from safety.selectors.messages import format_local
from safety.selectors.notifications import notifications_visible_to


class ResendForm(ActionForm):
    reason = forms.CharField(required=False, label="Reason (for a resend)", max_length=500)


@admin.register(Notification)
class NotificationAdmin(ScopedAdmin):
    """Every reminder email: who, what, when due and sent, how it went; staff resend through a service."""

    action_form = ResendForm
    object_acts = NOTIFICATION_ACTS
    actions = ["resend"]
    list_display = ["recipient_email", "kind", "subject", "visit_code", "due", "sent", "status", "attempts", "error"]
    list_filter = ["status", "kind", "site"]
    search_fields = ["subject__study_number", "recipient_email", "recipient__username", "occasion"]
    date_hierarchy = "due_at"

    has_resend_permission = act_check(Act.RESEND_NOTIFICATION)

    def scope_queryset(self, request, queryset):
        """Their sites' rows and the messages sent to them (rows are written by the sweep, never here)."""
        return queryset & notifications_visible_to(request.user)

    def _local(self, row: Notification, instant):
        return format_local(instant, row.site.zone if row.site_id else ZoneInfo("UTC")) if instant else "—"

    @admin.display(description="Visit", ordering="visit__target_date")
    def visit_code(self, row):
        return row.visit.definition.code if row.visit_id else "—"

    @admin.display(description="Due (site-local)", ordering="due_at")
    def due(self, row):
        return self._local(row, row.due_at)

    @admin.display(description="Sent (site-local)", ordering="sent_at")
    def sent(self, row):
        return self._local(row, row.sent_at)

    @admin.display(description="Error or reason")
    def error(self, row):
        return row.last_error or row.cancelled_reason or "—"

    @admin.action(description="Resend the selected messages (give a reason)", permissions=["resend"])
    def resend(self, request, queryset):
        reason = request.POST.get("reason", "")
        apply_to_each(
            self,
            request,
            queryset,
            lambda row: services.notification_resend(actor=request.user, notification=row, reason=reason),
            lambda row, new: f"{row}: queued again as message {new.pk}",
        )
