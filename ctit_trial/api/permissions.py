"""API permissions read the role table (enrollment/roles.py): each view names the act each method performs."""

from rest_framework.permissions import BasePermission, DjangoModelPermissions

from enrollment.roles import Act, may


class RoleModelPermissions(DjangoModelPermissions):
    """Default for views that name no act: model permissions, where reading also needs `view`."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class ActPermission(BasePermission):
    """Allows a request when the caller's role may perform the act named for its method (HEAD/OPTIONS as GET)."""

    acts: dict[str, Act] = {}

    def has_permission(self, request, view):
        if request.method not in view.allowed_methods:
            return bool(request.user and request.user.is_authenticated)  # the view answers 405
        method = "GET" if request.method in ("HEAD", "OPTIONS") else request.method
        act = self.acts.get(method)
        return act is not None and may(request.user, act)


def allows(act: Act | None = None, /, **by_method: Act) -> type[ActPermission]:
    """A permission class: allows(Act.ENROLL) for every method, or allows(GET=Act.READ, POST=Act.RECORD_AE)."""
    acts = dict.fromkeys(("GET", "POST", "PUT", "PATCH", "DELETE"), act) if act else {}
    acts |= by_method
    name = "Allows_" + "_".join(f"{method}_{value}" for method, value in acts.items() if value)
    return type(name, (ActPermission,), {"acts": {method: value for method, value in acts.items() if value}})
