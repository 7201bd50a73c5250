from django.contrib import admin

from trellis.audit.models import AuditEvent
from trellis.core.admin import TrellisModelAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(TrellisModelAdmin):
    list_display = ["at", "actor", "action", "target_type", "target_id"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_id", "actor"]
    readonly_fields = ["at", "actor", "action", "target_type", "target_id", "detail"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
