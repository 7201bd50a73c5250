"""The SCEP endpoint: GetCACaps, GetCACert and PKIOperation."""

import base64
import binascii
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from trellis.core.errors import BadMessage, TooLarge
from trellis.pki.authority import get_authority
from trellis.scep.protocol import CAPABILITIES
from trellis.scep.services import answer_pki_operation

MAX_MESSAGE_BYTES = 256 * 1024


@csrf_exempt
@require_http_methods(["GET", "POST"])
def scep(request: HttpRequest) -> HttpResponse:
    """Dispatch on the `operation` parameter."""
    operation = request.GET.get("operation", "")
    if operation == "GetCACaps":
        body = "".join(f"{capability}\n" for capability in CAPABILITIES)
        return HttpResponse(body, content_type="text/plain")
    if operation == "GetCACert":
        return HttpResponse(
            get_authority().certificate_der, content_type="application/x-x509-ca-cert"
        )
    if operation == "PKIOperation":
        message = _pki_message(request)
        return HttpResponse(
            answer_pki_operation(message), content_type="application/x-pki-message"
        )
    raise BadMessage(f"unknown SCEP operation {operation[:40]!r}")


def _pki_message(request: HttpRequest) -> bytes:
    if request.method == "POST":
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > MAX_MESSAGE_BYTES:
            raise TooLarge("pkiMessage too large")
        body = request.body
        # RFC 8894 POSTs binary DER; a few clients POST the GET form's base64.
        return body if body[:1] == b"\x30" else _base64(body)
    return _base64(_raw_query_parameter(request, "message").encode("ascii", "replace"))


def _raw_query_parameter(request: HttpRequest, name: str) -> str:
    # Read the raw query string: a "+" in base64 is a plus, never a space,
    # which Django's form-style decoding of request.GET would make it.
    for pair in request.META.get("QUERY_STRING", "").split("&"):
        key, _, value = pair.partition("=")
        if unquote(key) == name:
            if len(value) > MAX_MESSAGE_BYTES * 2:
                raise TooLarge("pkiMessage too large")
            return unquote(value)
    raise BadMessage(f"missing {name} parameter")


def _base64(data: bytes) -> bytes:
    compact = b"".join(data.split())
    compact += b"=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadMessage("the message is not base64") from exc
