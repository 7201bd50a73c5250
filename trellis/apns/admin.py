from django.contrib import admin

from trellis.apns.models import PushCertificate


@admin.register(PushCertificate)
class PushCertificateAdmin(admin.ModelAdmin):
    list_display = ["topic", "not_after", "days_left", "problem", "uploaded_at"]
    fields = readonly_fields = (
        "topic",
        "serial_number",
        "not_after",
        "uploaded_at",
        "uploaded_by",
        "problem",
        "problem_at",
        "certificate_pem",
    )

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
