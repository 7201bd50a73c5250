"""Map protocol errors to bare HTTP responses, and unusable keys to a 503."""

import logging
from collections.abc import Callable

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
