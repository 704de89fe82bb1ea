"""Failed logins and signatures (django-axes) read-only for staff; superusers may clear a lockout."""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin

from enrollment.roles import Act, may


class StaffReadOnly:
    """Visible to the roles that read the security log (the role table); nothing can be added or edited."""

    actions = None

    def has_module_permission(self, request) -> bool:
        return may(request.user, Act.READ_SECURITY_LOG)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class LockoutAdmin(StaffReadOnly, AccessAttemptAdmin):
    """Current failure counts; deleting a row (superusers) lifts that lockout before its cool-off."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_superuser


class FailureLogAdmin(StaffReadOnly, AccessFailureLogAdmin):
    """Every failed login, one-time code and signature password: who, when, from where, on which page."""


class LoginLogAdmin(StaffReadOnly, AccessLogAdmin):
    """Successful logins and logouts."""


for model, model_admin in (
    (AccessAttempt, LockoutAdmin),
    (AccessFailureLog, FailureLogAdmin),
    (AccessLog, LoginLogAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
