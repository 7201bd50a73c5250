from datetime import datetime

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from trellis.apns.delivery import push_refusal, request_push
from trellis.core.admin import TrellisModelAdmin
from trellis.mdm.models import Command, Device
from trellis.mdm.revocation import NoIdentity, revoke_identity


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
class DeviceAdmin(TrellisModelAdmin):
    list_display = [
        "__str__",
        "serial_number",
        "device_family",
        "os_version",
        "blueprint",
        "status",
        "last_seen",
        "last_push_outcome",
        "push_token_valid",
        "identity_revoked_at",
    ]
    list_select_related = ["blueprint", "identity_certificate"]
    list_filter = ["status", "device_family", "blueprint", "last_push_outcome"]
    actions = ["push_now", "revoke_identity_action"]
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
        "identity_revoked_at",
        "enrollment_session",
        "first_seen",
        "last_seen",
        "enrolled_at",
        "unenrolled_at",
        "push_token_invalid_at",
        "last_push_at",
        "last_push_outcome",
        "last_push_reason",
        "push_unanswered_since",
    ]
    exclude = ["push_token", "push_magic", "unlock_token"]
    inlines = [CommandInline]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    @admin.display(boolean=True, description="Token valid")
    def push_token_valid(self, device: Device) -> bool:
        return bool(device.push_token) and device.push_token_invalid_at is None

    @admin.display(description="Identity revoked")
    def identity_revoked_at(self, device: Device) -> datetime | None:
        certificate = device.identity_certificate
        return certificate.revoked_at if certificate is not None else None

    @admin.action(
        description="Revoke identity (refuse its check-ins and connects)",
        permissions=["change"],
    )
    def revoke_identity_action(
        self, request: HttpRequest, queryset: QuerySet[Device]
    ) -> None:
        actor = request.user.get_username()
        revoked = 0
        for device in queryset.select_related("identity_certificate"):
            try:
                revoke_identity(device, actor)
            except NoIdentity as exc:
                messages.warning(request, f"{device}: {exc}")
            else:
                revoked += 1
        messages.success(request, f"Identity revoked for {revoked} device(s).")

    @admin.action(description="Push now", permissions=["change"])
    def push_now(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        refusals = [
            f"{device}: {push_refusal(device)}"
            for device in queryset
            if push_refusal(device)
        ]
        marked = request_push(queryset.values_list("pk", flat=True))
        messages.success(request, f"Push requested for {marked} device(s).")
        for refusal in refusals:
            messages.warning(request, refusal)
