from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from trellis.apns.delivery import request_push
from trellis.blueprints.models import Blueprint, EnrollmentCode
from trellis.blueprints.services import (
    change_code,
    register_new_blueprint,
    update_blueprint,
)
from trellis.core.admin import TrellisModelAdmin
from trellis.library.admin import BlueprintItemInline
from trellis.mdm.models import Device


class EnrollmentCodeInline(admin.TabularInline):
    model = EnrollmentCode
    fields = readonly_fields = ("version", "code", "created_at", "retired_at")
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Blueprint)
class BlueprintAdmin(TrellisModelAdmin):
    list_display = ["name", "enrollment_enabled", "current_code_display", "updated_at"]
    fields = ["name", "enrollment_enabled"]
    inlines = [EnrollmentCodeInline, BlueprintItemInline]
    actions = ["change_code_action", "push_devices"]

    @admin.display(description="Enrollment code")
    def current_code_display(self, blueprint: Blueprint) -> str:
        code = blueprint.current_code
        return code.display if code else "-"

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        actor = request.user.get_username()
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            update_blueprint(obj, actor=actor, **changes)
            return
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            register_new_blueprint(obj, actor=actor)

    @admin.action(description="Change Code", permissions=["change"])
    def change_code_action(
        self, request: HttpRequest, queryset: QuerySet[Blueprint]
    ) -> None:
        for blueprint in queryset:
            change_code(blueprint, actor=request.user.get_username())
        messages.success(
            request, f"New enrollment codes issued for {queryset.count()} Blueprint(s)."
        )

    @admin.action(description="Push their devices", permissions=["change"])
    def push_devices(self, request: HttpRequest, queryset: QuerySet[Blueprint]) -> None:
        devices = Device.objects.filter(
            blueprint__in=queryset, status__in=Device.MANAGED
        )
        marked = request_push(devices.values_list("pk", flat=True))
        messages.success(request, f"Push requested for {marked} device(s).")
