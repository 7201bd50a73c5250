"""Who may do what through the admin API."""

from typing import TYPE_CHECKING

from django.db import models
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

# DRF imports its permission classes while rest_framework.views loads.
if TYPE_CHECKING:
    from rest_framework.views import APIView


class AdminRolePermission(BasePermission):
    """Staff may read; a change needs a superuser or the model's permission.

    Read-only admins are staff whose only permissions are view permissions, so
    they read everything the API shows and change nothing, exactly as in the
    Django admin.
    """

    def has_permission(self, request: Request, view: "APIView") -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active and user.is_staff):
            return False
        if request.method in SAFE_METHODS or user.is_superuser:
            return True
        permission = required_permission(view, request.method or "")
        return permission is not None and user.has_perm(permission)


def required_permission(view: "APIView", method: str) -> str | None:
    """Answer the permission an unsafe request to `view` needs.

    The model is the view's `permission_model`, or its queryset's. A view may
    map methods to actions with `method_permissions` (an upload that stores a
    new row needs "add", as it does in the Django admin); otherwise creating
    needs "add", DELETE "delete" and anything else "change". A view that names
    no model answers None: superusers only.
    """
    model = _model_of(view)
    if model is None:
        return None
    overrides: dict[str, str] = getattr(view, "method_permissions", {})
    action = overrides.get(method) or _default_action(view, method)
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def _model_of(view: "APIView") -> type[models.Model] | None:
    model: type[models.Model] | None = getattr(view, "permission_model", None)
    if model is not None:
        return model
    queryset = getattr(view, "queryset", None)
    return queryset.model if queryset is not None else None


def _default_action(view: "APIView", method: str) -> str:
    if method == "DELETE":
        return "delete"
    if method == "POST" and getattr(view, "action", None) == "create":
        return "add"
    return "change"
