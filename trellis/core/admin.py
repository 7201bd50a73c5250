"""What every Trellis page in the Django admin shares."""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


class TrellisModelAdmin(admin.ModelAdmin):
    """A model admin that answers 403 to an action its user may not run.

    Django leaves such actions out of the menu, but a POST naming one is
    dropped without a word and the list shown again; a read-only admin who
    tries gets a plain refusal instead.
    """

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST":
            allowed = self.get_actions(request)
            asked = [name for name in request.POST.getlist("action") if name]
            if any(name not in allowed for name in asked):
                raise PermissionDenied
        return super().changelist_view(request, extra_context)
