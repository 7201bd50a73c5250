from django.contrib import admin

from trellis.core.admin import TrellisModelAdmin
from trellis.enrollment.models import EnrollmentPortal, EnrollmentSession
from trellis.enrollment.services import set_portal_enabled, set_portal_locked


@admin.register(EnrollmentPortal)
class EnrollmentPortalAdmin(TrellisModelAdmin):
    list_display = ["__str__", "enabled", "locked", "updated_at"]
    fields = ["enabled", "locked"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return (
            super().has_add_permission(request)
            and not EnrollmentPortal.objects.exists()
        )

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        actor = request.user.get_username()
        set_portal_enabled(obj.enabled, actor=actor)
        set_portal_locked(obj.locked, actor=actor)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(EnrollmentSession)
class EnrollmentSessionAdmin(TrellisModelAdmin):
    list_display = ["id", "blueprint", "created_at", "client_ip", "status", "outcome"]
    list_filter = ["status", "blueprint"]
    readonly_fields = [
        "id",
        "blueprint",
        "enrollment_code",
        "created_at",
        "expires_at",
        "client_ip",
        "user_agent",
        "challenge_used_at",
        "certificate",
        "status",
        "enrolled_at",
    ]
    exclude = ["challenge_digest"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
