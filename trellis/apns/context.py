"""The push certificate warning shown at the top of every admin page."""

from django.http import HttpRequest

from trellis.apns.services import (
    ExpiryWarning,
    current_push_certificate,
    expiry_warning,
)


def push_certificate_warning(request: HttpRequest) -> dict[str, object]:
    """Offer the warning lazily: only pages that show it query for it."""

    def warning() -> ExpiryWarning | None:
        return expiry_warning(current_push_certificate())

    return {"push_certificate_warning": warning}
