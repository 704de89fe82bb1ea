"""Permissions for actions that serve several HTTP methods, each needing its own permission."""

from rest_framework.permissions import BasePermission


class MethodPermissions(BasePermission):
    """Allows a request when the caller holds the permission named for its method (HEAD/OPTIONS as GET)."""

    required: dict[str, str] = {}

    def has_permission(self, request, view):
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        needed = self.required.get(method)
        return bool(needed and request.user and request.user.is_authenticated and request.user.has_perm(needed))


def requires_by_method(**required: str) -> type[MethodPermissions]:
    """A permission class: requires_by_method(GET="app.view_x", POST="app.add_x")."""
    return type("RequiresByMethod", (MethodPermissions,), {"required": required})
