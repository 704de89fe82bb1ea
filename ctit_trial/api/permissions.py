"""Role-based API permissions: the caller's groups grant Django model permissions, reads included."""

from rest_framework.permissions import BasePermission, DjangoModelPermissions


class RoleModelPermissions(DjangoModelPermissions):
    """Model permissions where reading also needs the `view` permission (a role must grant it)."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class HasModelPermission(BasePermission):
    """Allows callers holding one named permission (for views that are not a model's CRUD)."""

    required: str = ""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.has_perm(self.required))


def requires(permission: str) -> type[HasModelPermission]:
    """A permission class demanding `app_label.codename`."""
    return type(f"Requires_{permission.replace('.', '_')}", (HasModelPermission,), {"required": permission})
