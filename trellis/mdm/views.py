"""HTTP endpoints of the MDM protocol: check-in and connect.

Each view checks who signed the body, reads it, hands it to one service and
answers. Refusals are raised as ProtocolError and become bare statuses.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from trellis.core.errors import BadMessage, TooLarge
from trellis.mdm.checkin import handle_checkin
from trellis.mdm.connect import handle_connect, handle_unreadable_answer
from trellis.mdm.identity import RequestIdentity, identify_request
from trellis.mdm.protocol import Answer, MessageError, read_checkin, read_connect

CHECKIN_MAX_BYTES = 1024 * 1024


@csrf_exempt
@require_http_methods(["PUT", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    """Authenticate, TokenUpdate, CheckOut and the other check-in messages."""
    body, identity = _signed_body(request, CHECKIN_MAX_BYTES)
    try:
        message = read_checkin(body)
    except MessageError as exc:
        raise BadMessage(str(exc)) from exc

    return _respond(handle_checkin(identity, message))


@csrf_exempt
@require_http_methods(["PUT", "POST"])
def connect(request: HttpRequest) -> HttpResponse:
    """A device's status report, answered with its next command."""
    body, identity = _signed_body(request, settings.TRELLIS_RESULT_MAX_MB * 1024 * 1024)
    try:
        message = read_connect(body)
    except MessageError:
        return _respond(handle_unreadable_answer(identity, body))

    return _respond(handle_connect(identity, message, body))


def _signed_body(request: HttpRequest, limit: int) -> tuple[bytes, RequestIdentity]:
    """Read the body and answer who sent it.

    The identity is checked before the body is read as a message: a signature
    costs a hash of the body, while reading a large property list costs far
    more, and only devices Trellis enrolled get that far.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise BadMessage("unreadable Content-Length") from exc
    if length > limit:
        raise TooLarge(f"body of {length} bytes is over the {limit}-byte limit")
    if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        # A large device answer (an application list) is read here, under this
        # endpoint's own limit, instead of raising the limit of every endpoint.
        body = request.read()
    else:
        body = request.body
    identity = identify_request(
        body, request.headers, request.META.get("REMOTE_ADDR", "")
    )
    return body, identity


def _respond(answer: Answer) -> HttpResponse:
    return HttpResponse(
        answer.body, content_type=answer.content_type, status=answer.status
    )
