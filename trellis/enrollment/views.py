"""The enrollment portal: one page, one code field, one profile download."""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from trellis.blueprints.services import find_enrollable_code
from trellis.core.addresses import client_address
from trellis.enrollment.services import portal_is_open, start_enrollment
from trellis.enrollment.throttle import count_failed_entry

logger = logging.getLogger(__name__)

NOT_FOUND_BODY = b'{"detail":"Not found."}'

CODE_REFUSED = (
    "That code did not work. Check it and try again, or ask your administrator "
    "for a current code."
)

TOO_MANY_FAILURES = (
    "That code did not work, and too many codes that did not work have been "
    "entered here recently. Check your code carefully, or try again in about "
    "{minutes} minute{plural}."
)

MAX_CODE_INPUT = 64
MAX_FORM_BYTES = 16 * 1024


def not_found() -> HttpResponse:
    """The answer of every portal address while the portal does not exist."""
    return HttpResponse(NOT_FOUND_BODY, status=404, content_type="application/json")


# The form carries no authority (the code is the credential and there is no
# login), and people download profiles with plain HTTP clients such as curl,
# so the portal form is exempt from CSRF tokens.
@csrf_exempt
@never_cache
def portal(request: HttpRequest) -> HttpResponse:
    """Show the code form, or answer a valid code with its enrollment profile."""
    # The closed portal does not exist, whatever the method.
    if not portal_is_open():
        return not_found()
    if request.method == "HEAD":
        return HttpResponse(content_type="text/html; charset=utf-8")
    if request.method == "GET":
        return _page(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    if _declared_length(request) > MAX_FORM_BYTES:
        # A code fits in a few dozen bytes: a larger form is not read at all.
        return HttpResponse(
            "The form is too large.", status=413, content_type="text/plain"
        )

    entered = request.POST.get("code", "")[:MAX_CODE_INPUT]
    code = find_enrollable_code(entered)
    address = client_address(request)
    if code is None:
        return _refuse(request, address)

    download = start_enrollment(
        code,
        client_ip=address,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    response = HttpResponse(
        download.content, content_type="application/x-apple-aspen-config"
    )
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return MAX_FORM_BYTES + 1


@csrf_exempt
def portal_missing(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other address under the portal."""
    return not_found()


def _refuse(request: HttpRequest, address: str | None) -> HttpResponse:
    """Answer a wrong code, with 429 once its address or the portal is past a limit.

    The code is checked before the counters are, and only a wrong code is
    ever refused: a classroom behind one address keeps enrolling while
    someone at that same address floods the portal with guesses. The price:
    a guesser who ignores the 429s is not slowed down, since a 429 says
    "wrong" as plainly as the page does. The codes' 59 bits of entropy are
    what defeat guessing; the 429 tells well-behaved clients to back off,
    and the audit trail shows the attack to an admin, who can lock the
    portal.
    """
    wait = count_failed_entry(address)
    if wait is None:
        logger.info("enrollment code refused client_ip=%s", address)
        # The same page whatever was typed: it tells nothing about whether a
        # code exists, was retired or is switched off.
        return _page(request, error=CODE_REFUSED)

    logger.debug("enrollment code refused client_ip=%s throttled=true", address)
    minutes = -(-wait // 60)
    error = TOO_MANY_FAILURES.format(minutes=minutes, plural="s" * (minutes != 1))
    response = _page(request, error=error, status=429)
    response["Retry-After"] = str(wait)
    return response


def _page(request: HttpRequest, error: str = "", status: int = 200) -> HttpResponse:
    context = {"organization": settings.TRELLIS_ORGANIZATION, "error": error}
    return render(request, "enrollment/portal.html", context, status=status)
