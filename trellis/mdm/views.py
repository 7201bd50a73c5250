"""HTTP endpoints of the MDM protocol: check-in and connect.

Each view reads the body, checks who signed it, hands it to one service and
answers. Refusals are raised as ProtocolError and become bare statuses.
"""

from collections.abc import Callable
from typing import TypeVar

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from trellis.core.errors import BadMessage, TooLarge
from trellis.mdm.checkin import handle_checkin
from trellis.mdm.connect import handle_connect
from trellis.mdm.identity import RequestIdentity, identify_request
from trellis.mdm.protocol import MessageError, read_checkin, read_connect

CHECKIN_MAX_BYTES = 1024 * 1024
CONNECT_MAX_BYTES = 16 * 1024 * 1024

Message = TypeVar("Message")


@csrf_exempt
@require_http_methods(["PUT", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    """Authenticate, TokenUpdate, CheckOut and the other check-in messages."""
    _, message, identity = _signed_message(request, CHECKIN_MAX_BYTES, read_checkin)

    return _answer(handle_checkin(identity, message))


@csrf_exempt
@require_http_methods(["PUT", "POST"])
def connect(request: HttpRequest) -> HttpResponse:
    """A device's status report, answered with its next command."""
    body, message, identity = _signed_message(request, CONNECT_MAX_BYTES, read_connect)

    return _answer(handle_connect(identity, message, body))


def _signed_message(
    request: HttpRequest, limit: int, read: Callable[[bytes], Message]
) -> tuple[bytes, Message, RequestIdentity]:
    """Check who sent the body, then read it as a message.

    The identity is checked first: a signature costs a hash of the body,
    while reading a large property list costs far more, and only devices
    Trellis enrolled get that far.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise BadMessage("unreadable Content-Length") from exc
    if length > limit:
        raise TooLarge(f"body of {length} bytes is over the {limit}-byte limit")
    body = request.body
    identity = identify_request(
        body, request.headers, request.META.get("REMOTE_ADDR", "")
    )
    try:
        message = read(body)
    except MessageError as exc:
        raise BadMessage(str(exc)) from exc
    return body, message, identity


def _answer(body: bytes) -> HttpResponse:
    return HttpResponse(body, content_type="application/xml" if body else "text/plain")
