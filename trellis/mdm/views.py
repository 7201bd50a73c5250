"""HTTP endpoints of the MDM protocol: check-in and connect.

Each view reads the body, checks who signed it, hands it to one service and
answers. Refusals are raised as ProtocolError and become bare statuses.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from trellis.core.errors import BadMessage, TooLarge
from trellis.mdm.checkin import handle_checkin
from trellis.mdm.connect import handle_connect
from trellis.mdm.identity import verify_request_identity
from trellis.mdm.protocol import MessageError, read_checkin, read_connect

CHECKIN_MAX_BYTES = 1024 * 1024
CONNECT_MAX_BYTES = 16 * 1024 * 1024


@csrf_exempt
@require_http_methods(["PUT", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    """Authenticate, TokenUpdate, CheckOut and the other check-in messages."""
    body = _read_body(request, CHECKIN_MAX_BYTES)
    try:
        message = read_checkin(body)
    except MessageError as exc:
        raise BadMessage(str(exc)) from exc
    identity = verify_request_identity(request.headers.get("Mdm-Signature"), body)

    answer = handle_checkin(identity, message)
    return HttpResponse(
        answer, content_type="application/xml" if answer else "text/plain"
    )


@csrf_exempt
@require_http_methods(["PUT", "POST"])
def connect(request: HttpRequest) -> HttpResponse:
    """A device's status report, answered with its next command."""
    body = _read_body(request, CONNECT_MAX_BYTES)
    try:
        message = read_connect(body)
    except MessageError as exc:
        raise BadMessage(str(exc)) from exc
    identity = verify_request_identity(request.headers.get("Mdm-Signature"), body)

    command = handle_connect(identity, message, body)
    return HttpResponse(
        command, content_type="application/xml" if command else "text/plain"
    )


def _read_body(request: HttpRequest, limit: int) -> bytes:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise BadMessage("unreadable Content-Length") from exc
    if length > limit:
        raise TooLarge(f"body of {length} bytes is over the {limit}-byte limit")
    return request.body
