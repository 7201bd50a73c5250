from django.contrib import admin

from trellis.mdm.models import Command, Device


class CommandInline(admin.TabularInline):
    model = Command
    fields = readonly_fields = (
        "uuid",
        "request_type",
        "status",
        "created_at",
        "sent_at",
        "responded_at",
    )
    extra = 0
    can_delete = False
    ordering = ["-id"]

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "serial_number",
        "device_family",
        "os_version",
        "blueprint",
        "status",
        "last_seen",
    ]
    list_filter = ["status", "device_family", "blueprint"]
    search_fields = ["udid", "serial_number", "name"]
    readonly_fields = [
        "udid",
        "serial_number",
        "model",
        "model_name",
        "product_name",
        "device_family",
        "os_version",
        "build_version",
        "name",
        "blueprint",
        "status",
        "topic",
        "identity_certificate",
        "enrollment_session",
        "first_seen",
        "last_seen",
        "enrolled_at",
        "unenrolled_at",
    ]
    exclude = ["push_token", "push_magic", "unlock_token"]
    inlines = [CommandInline]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
