from django.contrib import admin

from trellis.apns.models import PushCertificate


@admin.register(PushCertificate)
class PushCertificateAdmin(admin.ModelAdmin):
    list_display = ["topic", "not_after", "uploaded_at"]
    fields = readonly_fields = ("topic", "not_after", "uploaded_at", "certificate_pem")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
