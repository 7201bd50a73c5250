"""Service-level views: health."""

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from trellis.pki.authority import get_authority


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 once the database and the certificate authority are usable."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        # The key too: a CA whose key no configured secret key opens is unusable.
        _ = get_authority().key
    except Exception as exc:  # any failure here means "not ready"
        return JsonResponse(
            {"status": "unavailable", "reason": type(exc).__name__}, status=503
        )
    return JsonResponse({"status": "ok"})
