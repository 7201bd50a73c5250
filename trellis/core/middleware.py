"""Map errors to responses (bare statuses, 503 for unusable keys); security headers."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from trellis.core.errors import ProtocolError, Refused, SecretsUnavailable

logger = logging.getLogger(__name__)
security_logger = logging.getLogger("trellis.security")

SECRETS_UNAVAILABLE = (
    "Trellis cannot decrypt its keys with the configured TRELLIS_SECRET_KEYS; "
    "the server log says which key. This is a server fault, not yours.\n"
)


class ProtocolErrorMiddleware:
    """Turn a ProtocolError raised by a view into its status with an empty body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if isinstance(exception, SecretsUnavailable):
            # The message names the secret and where the keys come from; a
            # traceback would add nothing an operator can act on.
            logger.error("request failed path=%s reason=%s", request.path, exception)
            return HttpResponse(
                SECRETS_UNAVAILABLE, status=exception.status, content_type="text/plain"
            )
        if not isinstance(exception, ProtocolError):
            return None
        log = security_logger if isinstance(exception, Refused) else logger
        log.warning(
            "request refused path=%s status=%s reason=%s",
            request.path,
            exception.status,
            exception.reason,
        )
        return HttpResponse(status=exception.status)


# Everything from Trellis's own origin, nothing inline, no plugins, no framing.
# Neither the portal nor the Django admin uses inline scripts or styles.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Give HTML pages a strict Content-Security-Policy, and HSTS under https."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if settings.SECURE_HSTS_SECONDS:
            # TLS usually ends at a proxy in front of Trellis, so the request
            # looks plain here and Django's SecurityMiddleware would leave the
            # header out. Browsers ignore it on plain HTTP in any case.
            response.setdefault("Strict-Transport-Security", _hsts())
        return response


def _hsts() -> str:
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    return value
