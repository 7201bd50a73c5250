from django.contrib import admin

from trellis.core.admin import TrellisModelAdmin
from trellis.pki.models import IssuedCertificate


@admin.register(IssuedCertificate)
class IssuedCertificateAdmin(TrellisModelAdmin):
    list_display = ["subject", "serial_number", "issued_at", "not_after", "revoked_at"]
    search_fields = ["serial_number", "fingerprint", "subject"]
    fields = readonly_fields = (
        "subject",
        "serial_number",
        "fingerprint",
        "not_before",
        "not_after",
        "issued_at",
        "revoked_at",
    )

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
